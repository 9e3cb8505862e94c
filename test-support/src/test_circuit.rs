//! A test circuit that exercises every kind of constraint: gates with rotations, copy
//! constraints across columns and to public inputs, and two lookups (one of them on a
//! degree-2 input expression). A `Cheat` breaks exactly one kind while keeping the rest.

use ark_bn254::Fr;
use ark_ff::{Field, UniformRand};
use rand::SeedableRng;
use zkinfer_circuits::{Advice, Circuit, ConstraintSystem, Error, Instance, Layouter, PublicTensor, Selector, TableColumn, TensorKind, Value};

pub const TABLE: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cheat {
    None,
    Gate,
    Copy,
    Lookup,
}

/// Row i: a_i, b_i small; c_i = a_i b_i; d accumulates c; e_i copies a_{i+1}; s_i is a
/// secret field element and t_i = s_i^2. Public: d at the last row, then a_0.
#[derive(Clone)]
pub struct TestCircuit {
    pub rows: usize,
    pub witness: Option<Witness>,
}

#[derive(Clone)]
pub struct Witness {
    pub a: Vec<Fr>,
    pub b: Vec<Fr>,
    pub c: Vec<Fr>,
    pub d: Vec<Fr>,
    pub e: Vec<Fr>,
    pub s: Vec<Fr>,
}

impl TestCircuit {
    pub fn new(rows: usize, cheat: Cheat, seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut a: Vec<Fr> = (0..rows).map(|i| Fr::from(((i * 7 + 3) as u64) % TABLE)).collect();
        let b: Vec<Fr> = (0..rows).map(|i| Fr::from(((i * 5 + 1) as u64) % TABLE)).collect();
        if cheat == Cheat::Lookup {
            a[rows / 2] = Fr::from(TABLE + 3);
        }
        let mut c: Vec<Fr> = a.iter().zip(&b).map(|(a, b)| *a * b).collect();
        if cheat == Cheat::Gate {
            c[rows / 2] += Fr::from(1u64);
        }
        let d = c
            .iter()
            .scan(Fr::from(0u64), |acc, c| {
                *acc += c;
                Some(*acc)
            })
            .collect();
        let mut e: Vec<Fr> = a[1..].to_vec();
        if cheat == Cheat::Copy {
            e[rows / 3] += Fr::from(1u64);
        }
        let s = (0..rows).map(|_| Fr::rand(&mut rng)).collect();
        Self { rows, witness: Some(Witness { a, b, c, d, e, s }) }
    }

    /// The same circuit without a witness, as key generation sees it.
    pub fn shape(&self) -> Self {
        Self { rows: self.rows, witness: None }
    }

    /// The public inputs the witness implies.
    pub fn instances(&self) -> Vec<Vec<Fr>> {
        let w = self.witness.as_ref().unwrap();
        vec![vec![*w.d.last().unwrap(), w.a[0]]]
    }
}

#[derive(Clone)]
pub struct Config {
    a: Advice,
    b: Advice,
    c: Advice,
    d: Advice,
    e: Advice,
    s: Advice,
    t: Advice,
    q_mul: Selector,
    q_acc: Selector,
    q_start: Selector,
    q_range: Selector,
    range: TableColumn,
    square_x: TableColumn,
    square_y: TableColumn,
    public: Instance,
}

impl Circuit for TestCircuit {
    type Config = Config;

    fn configure(&self, cs: &mut ConstraintSystem) -> Config {
        let [a, b, c, d, e, s, t] = [(); 7].map(|_| cs.advice_column());
        let [q_mul, q_acc, q_start, q_range] = [(); 4].map(|_| cs.selector());
        let (range, square_x, square_y) = (cs.table_column(), cs.table_column(), cs.table_column());
        let public = cs.instance_column();
        for col in [a, d, e] {
            cs.enable_equality(col);
        }
        cs.enable_equality(public);
        cs.create_gate("mul", vec![q_mul.expr() * (a.cur() * b.cur() - c.cur()), q_mul.expr() * (s.cur() * s.cur() - t.cur())]);
        cs.create_gate("accumulate", vec![q_acc.expr() * (d.cur() - d.prev() - c.cur()), q_start.expr() * (d.cur() - c.cur())]);
        cs.lookup("a in range", q_range.expr(), vec![(a.cur(), range)]);
        cs.lookup("b squared", q_range.expr(), vec![(b.cur(), square_x), (b.cur() * b.cur(), square_y)]);
        Config { a, b, c, d, e, s, t, q_mul, q_acc, q_start, q_range, range, square_x, square_y, public }
    }

    fn synthesize(&self, cfg: &Config, layouter: &mut Layouter) -> Result<(), Error> {
        let table: Vec<Vec<Fr>> = (0..TABLE).map(|x| vec![Fr::from(x)]).collect();
        layouter.assign_table("range", &[cfg.range], &table)?;
        let squares: Vec<Vec<Fr>> = (0..TABLE).map(|x| vec![Fr::from(x), Fr::from(x * x)]).collect();
        layouter.assign_table("squares", &[cfg.square_x, cfg.square_y], &squares)?;
        let w = self.witness.as_ref();
        let get = |f: fn(&Witness) -> &Vec<Fr>, i: usize| w.map_or(Value::unknown(), |w| Value::known(f(w)[i]));
        let (a_cells, e_cells, last_d) = layouter.assign_region("rows", |region| {
            let (mut a_cells, mut e_cells, mut d_cells) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..self.rows {
                region.enable_selector(cfg.q_mul, i);
                region.enable_selector(cfg.q_range, i);
                region.enable_selector(if i == 0 { cfg.q_start } else { cfg.q_acc }, i);
                a_cells.push(region.assign_advice(cfg.a, i, get(|w| &w.a, i))?);
                region.assign_advice(cfg.b, i, get(|w| &w.b, i))?;
                region.assign_advice(cfg.c, i, get(|w| &w.c, i))?;
                d_cells.push(region.assign_advice(cfg.d, i, get(|w| &w.d, i))?);
                let s = get(|w| &w.s, i);
                region.assign_advice(cfg.s, i, s)?;
                region.assign_advice(cfg.t, i, s.map(|s| s.square()))?;
                if i + 1 < self.rows {
                    e_cells.push(region.assign_advice(cfg.e, i, get(|w| &w.e, i))?);
                }
            }
            Ok((a_cells, e_cells, d_cells.pop().unwrap()))
        })?;
        // e_i is tied to a_{i+1}: copies across columns and rows, laid out in a region of
        // their own.
        layouter.assign_region("copies", |region| {
            for (i, e) in e_cells.iter().enumerate() {
                region.constrain_equal(e.cell, a_cells[i + 1].cell)?;
            }
            Ok(())
        })?;
        layouter.constrain_instance(last_d.cell, cfg.public, 0)?;
        layouter.constrain_instance(a_cells[0].cell, cfg.public, 1)?;
        Ok(())
    }

    /// The two public values as one tensor in fixed point at scale 2^-2.
    fn public_tensors(&self) -> Vec<PublicTensor> {
        vec![PublicTensor { name: "output".into(), kind: TensorKind::Output, shape: vec![2], scale_bits: 2 }]
    }
}
