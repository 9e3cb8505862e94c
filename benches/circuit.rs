//! The circuit the proving benchmark measures: ten advice columns, gates up to degree 4
//! (a cubic term under a selector), one range lookup and one copy constraint per row tying
//! each row to the one above, filled to the last usable row.

use ark_bn254::Fr;
use ark_ff::UniformRand;
use rand::{Rng, SeedableRng};
use zkinfer_circuits::{Advice, Circuit, ConstraintSystem, Error, Instance, Layouter, Selector, TableColumn, Value};

pub const ADVICE: usize = 10;
const OUT: usize = 3;
const CARRY: usize = 9;
/// The range table holds 0..RANGE; `a` is looked up in it on every row.
pub const RANGE: u64 = 1 << 8;

/// Row i: `a, b, c` are bytes, `carry_i = out_{i-1}` (a copy), `out = a b c + carry`;
/// `d, e, f` are field elements with `g = d e + f`; `h = out d`. Public: `out` at the last row.
#[derive(Clone)]
pub struct BenchCircuit {
    rows: usize,
    /// Column-major, in [`Config::advice`] order; `None` for key generation.
    witness: Option<Vec<Vec<Fr>>>,
}

#[derive(Clone)]
pub struct Config {
    /// a, b, c, out, d, e, f, g, h, carry
    advice: [Advice; ADVICE],
    q: Selector,
    range: TableColumn,
    public: Instance,
}

impl BenchCircuit {
    /// The circuit filling every usable row of `2^k` rows, with a witness drawn from `seed`.
    pub fn new(k: u32, seed: u64) -> Self {
        let rows = Self::usable_rows(k);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut w: Vec<Vec<Fr>> = (0..ADVICE).map(|_| Vec::with_capacity(rows)).collect();
        let mut carry = Fr::from(0u64);
        for _ in 0..rows {
            let [a, b, c] = [(); 3].map(|_| Fr::from(rng.gen_range(0..RANGE)));
            let out = a * b * c + carry;
            let [d, e, f] = [(); 3].map(|_| Fr::rand(&mut rng));
            for (col, v) in w.iter_mut().zip([a, b, c, out, d, e, f, d * e + f, out * d, carry]) {
                col.push(v);
            }
            carry = out;
        }
        Self { rows, witness: Some(w) }
    }

    /// The same circuit without a witness, as key generation sees it.
    pub fn shape(&self) -> Self {
        Self { rows: self.rows, witness: None }
    }

    pub fn instances(&self) -> Vec<Vec<Fr>> {
        let w = self.witness.as_ref().expect("a circuit with a witness");
        vec![vec![*w[OUT].last().expect("at least one row")]]
    }

    /// Rows below the blinding rows and the last-row marker.
    pub fn usable_rows(k: u32) -> usize {
        let mut cs = ConstraintSystem::default();
        Self { rows: 0, witness: None }.configure(&mut cs);
        (1 << k) - cs.reserved_rows()
    }
}

impl Circuit for BenchCircuit {
    type Config = Config;

    fn configure(&self, cs: &mut ConstraintSystem) -> Config {
        let advice = [(); ADVICE].map(|_| cs.advice_column());
        let [a, b, c, out, d, e, f, g, h, carry] = advice;
        let q = cs.selector();
        let range = cs.table_column();
        let public = cs.instance_column();
        for col in [out, carry] {
            cs.enable_equality(col);
        }
        cs.enable_equality(public);
        cs.create_gate(
            "rows",
            vec![
                q.expr() * (a.cur() * b.cur() * c.cur() + carry.cur() - out.cur()),
                q.expr() * (d.cur() * e.cur() + f.cur() - g.cur()),
                q.expr() * (out.cur() * d.cur() - h.cur()),
            ],
        );
        cs.lookup("a is a byte", q.expr(), vec![(a.cur(), range)]);
        Config { advice, q, range, public }
    }

    fn synthesize(&self, cfg: &Config, layouter: &mut Layouter) -> Result<(), Error> {
        let table: Vec<Vec<Fr>> = (0..RANGE).map(|x| vec![Fr::from(x)]).collect();
        layouter.assign_table("bytes", &[cfg.range], &table)?;
        let last = layouter.assign_region("rows", |region| {
            let mut prev_out = None;
            for i in 0..self.rows {
                region.enable_selector(cfg.q, i);
                let mut cells = Vec::with_capacity(ADVICE);
                for (j, column) in cfg.advice.iter().enumerate() {
                    let value = self.witness.as_ref().map_or(Value::unknown(), |w| Value::known(w[j][i]));
                    cells.push(region.assign_advice(*column, i, value)?);
                }
                if let Some(prev) = prev_out {
                    region.constrain_equal(prev, cells[CARRY].cell)?;
                }
                prev_out = Some(cells[OUT].cell);
            }
            Ok(prev_out)
        })?;
        layouter.constrain_instance(last.expect("at least one row"), cfg.public, 0)
    }
}
