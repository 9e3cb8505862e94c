//! The `dot` gate: `acc' = keep * acc + bias + sum a[i] * w[i]`, one row adding `width`
//! products of advice inputs with fixed weights to a running accumulator, so a dot product of
//! length `l` takes `ceil(l / width)` rows and chains into the next with no gap. Constants and
//! `linear` combinations are written through it too.

use super::{fr, Columns, MlConfig};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;
use ark_ff::{Field, Zero};

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns, q_dot: Selector) {
    let Columns { a, acc, w, keep, bias, .. } = *cols;
    let dot = a.iter().zip(w).fold(acc.next() - keep.cur() * acc.cur() - bias.cur(), |e, (a, w)| e - a.cur() * w.cur());
    cs.create_gate("dot", vec![q_dot.expr() * dot]);
}

/// One dot product: `bias + sum inputs[i] * weights[i]`.
pub struct DotProduct {
    pub inputs: Vec<AssignedCell>,
    pub weights: Vec<i64>,
    pub bias: i64,
}

/// Consecutive items grouped into blocks of at least `BLOCK_ROWS` rows (the last may have
/// fewer), given each item's rows: (the items' range, the block's rows). Blocks this tall
/// amortize a parallel block's cost while leaving hundreds of them for a layer of a model.
fn blocks_of_rows(rows: impl Iterator<Item = usize>) -> Vec<(std::ops::Range<usize>, usize)> {
    const BLOCK_ROWS: usize = 64;
    let mut blocks: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for (i, r) in rows.enumerate() {
        match blocks.last_mut() {
            Some((items, rows)) if *rows < BLOCK_ROWS => {
                items.end = i + 1;
                *rows += r;
            }
            _ => blocks.push((i..i + 1, r)),
        }
    }
    blocks
}

/// Rows of a dot product of `inputs` values at `width` a row: at least one.
fn rows_of(inputs: usize, width: usize) -> usize {
    inputs.div_ceil(width).max(1)
}

/// `items` in rows of `width`, and one empty row when there are none.
pub(super) fn chunks<T>(items: &[T], width: usize) -> impl Iterator<Item = &[T]> {
    (0..rows_of(items.len(), width)).map(move |r| &items[(r * width).min(items.len())..((r + 1) * width).min(items.len())])
}

impl MlConfig {
    /// Dot products `bias + sum inputs[i] * weights[i]`, one after another in one region:
    /// each product's result sits in the accumulator on the row where the next one starts.
    /// A product takes a row per `width` inputs, and one when it has none (a convolution's
    /// window entirely in the padding is its bias); blocks of products are filled in parallel.
    pub fn dot(&self, layouter: &mut Layouter, products: &[DotProduct]) -> Result<Vec<AssignedCell>, Error> {
        let width = self.shape.width;
        if let Some(p) = products.iter().find(|p| p.inputs.len() != p.weights.len()) {
            return Err(Error::Synthesis(format!("a dot product needs as many weights as inputs ({} inputs, {} weights)", p.inputs.len(), p.weights.len())));
        }
        let blocks = blocks_of_rows(products.iter().map(|p| rows_of(p.inputs.len(), width)));
        let heights: Vec<usize> = blocks.iter().map(|(_, rows)| *rows).collect();
        layouter.assign_region("dot", |region| {
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            let outputs = region.blocks(0, &heights, |i, region| {
                let mut row = 0;
                let mut outputs = Vec::new();
                for p in &products[blocks[i].0.clone()] {
                    let mut value = Value::known(fr(p.bias));
                    let mut result = None;
                    for (c, (xs, ws)) in chunks(&p.inputs, width).zip(chunks(&p.weights, width)).enumerate() {
                        region.enable_selector(self.q_dot, row);
                        region.assign_fixed(self.keep, row, if c == 0 { Fr::zero() } else { Fr::ONE });
                        region.assign_fixed(self.bias, row, if c == 0 { fr(p.bias) } else { Fr::zero() });
                        for (k, (x, w)) in xs.iter().zip(ws).enumerate() {
                            let w = fr(*w);
                            region.copy_advice(x, self.a[k], row)?;
                            region.assign_fixed(self.w[k], row, w);
                            value = value.zip(x.value).map(|(acc, x)| acc + x * w);
                        }
                        for k in xs.len()..width {
                            region.assign_advice(self.a[k], row, Value::known(Fr::zero()))?;
                        }
                        row += 1;
                        result = Some(region.assign_advice(self.acc, row, value)?);
                    }
                    outputs.extend(result);
                }
                Ok(outputs)
            })?;
            Ok(outputs.into_iter().flatten().collect())
        })
    }

    /// A cell that holds `value` in every proof: the dot gate with no inputs and bias
    /// `value`; two rows.
    pub fn constant(&self, layouter: &mut Layouter, value: i64) -> Result<AssignedCell, Error> {
        layouter.assign_region("constant", |region| {
            region.enable_selector(self.q_dot, 0);
            region.assign_fixed(self.bias, 0, fr(value));
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            region.assign_advice(self.acc, 1, Value::known(fr(value)))
        })
    }

    /// `c0 * a + c1 * b` per item: dot products of two inputs, chained, so one row each and
    /// one more at the end (a gate of its own would cost a selector column).
    pub fn linear(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64, AssignedCell, i64)]) -> Result<Vec<AssignedCell>, Error> {
        let products: Vec<DotProduct> = items.iter().map(|(a, c0, b, c1)| DotProduct { inputs: vec![*a, *b], weights: vec![*c0, *c1], bias: 0 }).collect();
        self.dot(layouter, &products)
    }
}
