//! The `gather` gate, only where a model reads a fixed table at a computed index (a token
//! embedding): an entry of the table in one row, by lookup. The table's entries sit in the
//! lookup table under a tag of their own, keyed by where they are; the row's key is computed
//! from the index cell, so only an entry of the table at that index can be read.

use super::{fr, out_of_range, to_i64, Columns, MlConfig, NARROW_TAG};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::Error;
use ark_bn254::Fr;

/// A fixed table of `rows` rows of `row_len` values (fixed point), read a row at a time by an
/// index at the circuit's scale.
///
/// Entry `j` of row `v` is keyed `v * row_len * 2^scale_bits + j`, and an index cell `x` reads
/// the key `x * row_len + j`. An index off the grid, `x = v 2^scale_bits + f` with `0 < f <
/// 2^scale_bits`, gives `v * row_len * 2^scale_bits + f * row_len + j`, strictly between row `v`'s
/// last key and row `v + 1`'s first: no entry, so a proof cannot read a row at a fraction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatherTable {
    pub row_len: usize,
    pub values: Vec<i64>,
}

impl GatherTable {
    pub fn rows(&self) -> usize {
        self.values.len() / self.row_len
    }

    /// Entry `j` of the row that index `x` (fixed point) names: an error, naming the index,
    /// where `x` is off the grid or outside the table.
    pub fn entry(&self, scale_bits: u32, x: i64, j: usize) -> Result<i64, String> {
        let one = 1i64 << scale_bits;
        if x.rem_euclid(one) != 0 {
            return Err(format!("index {} is not an integer", x as f64 / one as f64));
        }
        let v = x.div_euclid(one);
        if v < 0 {
            return Err(format!("index {v} is negative: a circuit reads a table at 0 to {} only", self.rows() - 1));
        }
        if v >= self.rows() as i64 {
            return Err(format!("index {v} is outside the table's {} rows", self.rows()));
        }
        Ok(self.values[v as usize * self.row_len + j])
    }

    fn key(&self, scale_bits: u32, i: usize) -> Fr {
        let (v, j) = (i / self.row_len, i % self.row_len);
        Fr::from(v as u64) * Fr::from(self.row_len as u64) * Fr::from(1u64 << scale_bits) + Fr::from(j as u64)
    }
}

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns, gathers: bool) -> Option<Selector> {
    let Columns { a, rc, rc_msb, w, .. } = *cols;
    // The looked-up row (tag, rc, rc_msb) is (table, key, entry): the key is the index times the
    // row length plus the entry's place, and the entry is the output cell.
    gathers.then(|| {
        let q = cs.selector();
        let (index, output, row_len, place) = (a[0].cur(), a[1].cur(), w[0].cur(), w[1].cur());
        cs.create_gate("gather", vec![q.expr() * (index * row_len + place - rc.cur()), q.expr() * (output - rc_msb.cur())]);
        q
    })
}

impl MlConfig {
    /// The lookup tag of the `k`-th gather table, after the narrow range's.
    pub(super) fn gather_tag(k: usize) -> u64 {
        NARROW_TAG + 1 + k as u64
    }

    /// The lookup table's rows of the gather tables: `(tag, key, entry)`.
    pub(super) fn gather_rows(&self) -> impl Iterator<Item = Vec<Fr>> + '_ {
        let scale_bits = self.shape.scale_bits;
        self.gathers.iter().enumerate().flat_map(move |(k, table)| {
            let tag = Fr::from(Self::gather_tag(k));
            table.values.iter().enumerate().map(move |(i, v)| vec![tag, table.key(scale_bits, i), fr(*v)])
        })
    }

    /// Entry `j` of the row of `table` (one of the circuit's, by equality) that each index cell
    /// names, a row each.
    pub fn gather(&self, layouter: &mut Layouter, table: &GatherTable, items: &[(AssignedCell, usize)]) -> Result<Vec<AssignedCell>, Error> {
        let k = self.gathers.iter().position(|t| t == table).ok_or_else(|| Error::Synthesis("a gather table the circuit was not configured with".into()))?;
        let q = self.q_gather.expect("a circuit with gather tables has the gather gate");
        let (tag, scale_bits) = (Self::gather_tag(k), self.shape.scale_bits);
        layouter.assign_region("gather", |region| {
            let mut outputs = Vec::with_capacity(items.len());
            for (row, (index, j)) in items.iter().enumerate() {
                let entry = index
                    .value
                    .map(|x| -> Result<(i64, i64), Error> {
                        let x = to_i64(x).ok_or_else(out_of_range)?;
                        let entry = table.entry(scale_bits, x, *j).map_err(Error::Synthesis)?;
                        let key = x.checked_mul(table.row_len as i64).and_then(|k| k.checked_add(*j as i64)).ok_or_else(out_of_range)?;
                        Ok((key, entry))
                    })
                    .transpose()?;
                region.enable_selector(q, row);
                region.assign_fixed(self.w[0], row, fr(table.row_len as i64));
                region.assign_fixed(self.w[1], row, fr(*j as i64));
                region.copy_advice(index, self.a[0], row)?;
                outputs.push(region.assign_advice(self.a[1], row, entry.map(|(_, e)| fr(e)))?);
                self.table_row(region, row, tag, entry)?;
            }
            Ok(outputs)
        })
    }
}
