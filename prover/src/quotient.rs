//! The quotient's numerator as a program. The protocol's identities have one definition,
//! [`Constraints::combine`], which the verifier evaluates at `x`; the prover traces it once per
//! proving key into a straight-line program over the values of the polynomials at one point
//! (common subexpressions shared, constants folded, registers allocated), and a backend runs
//! the program at every point of the extended coset: the CPU over chunks of points
//! ([`on_host`]), the GPU in one kernel that interprets it (`gpu/quotient.wgsl`).

use crate::keygen::{Domains, ProvingKey};
use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, One, Zero};
use ark_poly::EvaluationDomain;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::{Add, Mul, Neg, Sub};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use zkinfer_verifier::constraints::{Challenges, Constraints, PointValues};
use zkinfer_verifier::expression::Value;
use zkinfer_verifier::{CircuitDescription, ColumnKind, Layout, Query};

mod host;
pub use host::on_host;

/// Instructions are `[op, destination register, operand, operand]`; both operands are read
/// before the destination is written, so it may be one of theirs.
pub const ADD: u32 = 0;
pub const SUB: u32 = 1;
pub const MUL: u32 = 2;

/// An operand is a register, a constant or a query, by its top two bits, with an index below.
pub const REGISTER: u32 = 0;
pub const CONSTANT: u32 = 1 << 30;
pub const QUERY: u32 = 2 << 30;
pub const KIND: u32 = 3 << 30;

/// The first constants stand for this proof's challenges: theta, beta, gamma, kappa, y.
const CHALLENGES: usize = 5;
/// Points one chunk of [`Program::run`] evaluates at once.
const CHUNK: usize = 64;

/// The numerator of the quotient, `Constraints::combine`, as a straight-line program.
pub struct Program {
    pub instructions: Vec<[u32; 4]>,
    /// `[slot, rotation]`: the value of slot `slot` at the point `rotation` rows on, the
    /// rotation taken modulo the rows.
    pub queries: Vec<[u32; 2]>,
    /// `None` for the challenges, filled in by [`Program::constants`].
    constants: Vec<Option<Fr>>,
    pub registers: usize,
    /// The operand that holds the numerator when the instructions have run.
    pub result: u32,
    /// Slots `0..key_slots` hold the key's polynomials, `key_slots..slots` the proof's (see
    /// `Slots`).
    pub key_slots: usize,
    pub slots: usize,
    id: u64,
}

/// Where each polynomial the identities read sits among a program's slots: the key's first
/// (fixed, sigma, l_first, l_last, l_active, then X itself), then the proof's (advice,
/// instance, grand products, multiplicities, running sums).
struct Slots {
    fixed: usize,
    sigma: usize,
    markers: usize,
    x: usize,
    advice: usize,
    instance: usize,
    products: usize,
    multiplicity: usize,
    running_sums: usize,
    end: usize,
}

impl Slots {
    fn new(d: &CircuitDescription, layout: &Layout) -> Self {
        let fixed = 0;
        let sigma = fixed + d.num_fixed;
        let markers = sigma + d.permutation.len();
        let x = markers + 3;
        let advice = x + 1;
        let instance = advice + d.num_advice;
        let products = instance + d.num_instance;
        let multiplicity = products + layout.num_products;
        let running_sums = multiplicity + d.lookups.len();
        let end = running_sums + d.lookups.len();
        Self { fixed, sigma, markers, x, advice, instance, products, multiplicity, running_sums, end }
    }
}

/// A proof's polynomials that the identities read, in coefficients.
pub struct ProofPolys<'a> {
    pub advice: &'a [Vec<Fr>],
    pub instance: &'a [Vec<Fr>],
    pub products: &'a [Vec<Fr>],
    pub multiplicity: &'a [Vec<Fr>],
    pub running_sums: &'a [Vec<Fr>],
}

/// What a backend needs to compute the quotient of one proof.
pub struct QuotientJob<'a> {
    pub domains: &'a Domains,
    pub program: &'a Program,
    /// The program's constants with this proof's challenges.
    pub constants: Vec<Fr>,
    /// Coefficients by slot: the key's polynomials (the same in every proof of the key: a device
    /// may keep them under [`Program::id`]), then the proof's.
    pub key: Vec<&'a [Fr]>,
    pub proof: Vec<&'a [Fr]>,
}

/// The polynomial X, whose values on a coset are its points.
const X: [Fr; 2] = [Fr::ZERO, Fr::ONE];

impl<'a> QuotientJob<'a> {
    pub(crate) fn new(pk: &'a ProvingKey, challenges: &Challenges, polys: ProofPolys<'a>) -> Self {
        let as_slices = |polys: &'a [Vec<Fr>]| polys.iter().map(Vec::as_slice);
        let key = as_slices(&pk.fixed.coeffs).chain(as_slices(&pk.sigma.coeffs)).chain(as_slices(&pk.markers)).chain([X.as_slice()]).collect::<Vec<_>>();
        let proof = as_slices(polys.advice)
            .chain(as_slices(polys.instance))
            .chain(as_slices(polys.products))
            .chain(as_slices(polys.multiplicity))
            .chain(as_slices(polys.running_sums))
            .collect::<Vec<_>>();
        assert_eq!((key.len(), key.len() + proof.len()), (pk.program.key_slots, pk.program.slots), "slots as in Slots::new");
        Self { domains: &pk.domains, program: &pk.program, constants: pk.program.constants(challenges), key, proof }
    }
}

/// `1 / (X^n - 1)` on a coset of the rows' subgroup, where it is the constant `1 / (g^n - 1)`.
pub fn vanishing_inverse(part: &crate::backend::Domain) -> Fr {
    (part.coset_offset_pow_size() - Fr::one()).inverse().expect("the coset avoids the rows")
}

/// One chunk's registers: register r of point p at `r * CHUNK + p`.
struct Registers(Vec<Fr>);

impl Registers {
    fn new(registers: usize) -> Self {
        Self(vec![Fr::zero(); registers * CHUNK])
    }
}

impl Program {
    /// Traces `Constraints::combine` for the circuit `d` laid out as `layout`; the fixed
    /// columns marked in `zero` are 0 on every row, so the gates they select fold away and
    /// their values are never needed.
    pub fn new(d: &CircuitDescription, layout: &Layout, zero: &[bool]) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let slots = Slots::new(d, layout);
        let trace = Rc::new(RefCell::new(Trace { constants: vec![None; CHALLENGES], ..Trace::default() }));
        let constant = |i: usize| Traced::At(trace.clone(), Operand::Constant(i as u32));
        let challenges = Challenges { theta: constant(0), beta: constant(1), gamma: constant(2), kappa: constant(3), y: constant(4) };
        let n = layout.n as i64;
        let tracer = BySlot {
            slots: &slots,
            at: |slot, rotation: i32| {
                if slot < slots.sigma && zero.get(slot - slots.fixed) == Some(&true) {
                    return Traced::Known(Fr::ZERO);
                }
                let operand = trace.borrow_mut().query(slot, (rotation as i64).rem_euclid(n) as u32);
                Traced::At(trace.clone(), operand)
            },
        };
        let combined = Constraints::new(d, layout, challenges).combine(&tracer);
        let result = trace.borrow_mut().operand(&combined);
        drop((combined, tracer));
        let trace = Rc::try_unwrap(trace).ok().expect("the tracer is done").into_inner();
        let (instructions, registers, result) = allocate(&trace.ops, result);
        Self {
            instructions,
            queries: trace.queries.iter().map(|&(slot, rotation)| [slot as u32, rotation]).collect(),
            constants: trace.constants,
            registers,
            result,
            key_slots: slots.advice,
            slots: slots.end,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Names the proving key the program was made for, so that a device can keep the key's
    /// polynomials across that key's proofs.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The constants, with `challenges` in their places.
    pub fn constants(&self, challenges: &Challenges) -> Vec<Fr> {
        let Challenges { theta, beta, gamma, kappa, y } = *challenges;
        let mut out: Vec<Fr> = self.constants.iter().map(|c| c.unwrap_or_default()).collect();
        out[..CHALLENGES].copy_from_slice(&[theta, beta, gamma, kappa, y]);
        out
    }

    /// The numerator at points `start..start + out.len()` (at most [`CHUNK`]) of a part, from
    /// every slot's values on it.
    fn run(&self, constants: &[Fr], values: &[Vec<Fr>], start: usize, out: &mut [Fr], registers: &mut Registers) {
        let len = out.len();
        let fetch = |operand: u32, registers: &Registers, into: &mut [Fr; CHUNK]| {
            let index = (operand & !KIND) as usize;
            match operand & KIND {
                REGISTER => into[..len].copy_from_slice(&registers.0[index * CHUNK..index * CHUNK + len]),
                CONSTANT => into[..len].fill(constants[index]),
                _ => {
                    let [slot, rotation] = self.queries[index];
                    let column = &values[slot as usize];
                    let mask = column.len() - 1;
                    for (p, v) in into[..len].iter_mut().enumerate() {
                        *v = column[(start + p + rotation as usize) & mask];
                    }
                }
            }
        };
        let (mut a, mut b) = ([Fr::zero(); CHUNK], [Fr::zero(); CHUNK]);
        for &[op, dst, x, y] in &self.instructions {
            fetch(x, registers, &mut a);
            fetch(y, registers, &mut b);
            let (a, b) = (&mut a[..len], &b[..len]);
            match op {
                ADD => a.iter_mut().zip(b).for_each(|(a, b)| *a += b),
                SUB => a.iter_mut().zip(b).for_each(|(a, b)| *a -= b),
                _ => a.iter_mut().zip(b).for_each(|(a, b)| *a *= b),
            }
            let dst = dst as usize * CHUNK;
            registers.0[dst..dst + len].copy_from_slice(a);
        }
        fetch(self.result, registers, &mut a);
        out.copy_from_slice(&a[..len]);
    }
}

/// Registers for the operations that `result` needs, each freed after its last reader, and
/// the instructions, the number of registers and the result's operand.
fn allocate(ops: &[(u32, Operand, Operand)], result: Operand) -> (Vec<[u32; 4]>, usize, u32) {
    let mut needed = vec![false; ops.len()];
    let mark = |o: Operand, needed: &mut Vec<bool>| {
        if let Operand::Op(i) = o {
            needed[i as usize] = true;
        }
    };
    mark(result, &mut needed);
    for i in (0..ops.len()).rev() {
        if needed[i] {
            let (_, a, b) = ops[i];
            mark(a, &mut needed);
            mark(b, &mut needed);
        }
    }
    let mut last_read = vec![usize::MAX; ops.len()];
    for (i, &(_, a, b)) in ops.iter().enumerate().filter(|(i, _)| needed[*i]) {
        for o in [a, b] {
            if let Operand::Op(v) = o {
                last_read[v as usize] = i;
            }
        }
    }
    if let Operand::Op(v) = result {
        last_read[v as usize] = usize::MAX;
    }
    let mut register = vec![u32::MAX; ops.len()];
    let mut free: BTreeSet<u32> = Default::default();
    let mut registers = 0;
    let encode = |o: Operand, register: &[u32]| match o {
        Operand::Op(v) => REGISTER | register[v as usize],
        Operand::Constant(c) => CONSTANT | c,
        Operand::Query(q) => QUERY | q,
    };
    let mut instructions = Vec::new();
    for (i, &(op, a, b)) in ops.iter().enumerate().filter(|(i, _)| needed[*i]) {
        let (ea, eb) = (encode(a, &register), encode(b, &register));
        for o in [a, b] {
            if let Operand::Op(v) = o {
                if last_read[v as usize] == i {
                    free.insert(register[v as usize]);
                }
            }
        }
        let dst = free.pop_first().unwrap_or_else(|| {
            registers += 1;
            registers - 1
        });
        register[i] = dst;
        instructions.push([op, dst, ea, eb]);
    }
    let result = encode(result, &register);
    (instructions, registers as usize, result)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Operand {
    /// The result of the trace's operation with this index.
    Op(u32),
    Constant(u32),
    Query(u32),
}

#[derive(Default)]
struct Trace {
    ops: Vec<(u32, Operand, Operand)>,
    memo: HashMap<(u32, Operand, Operand), u32>,
    constants: Vec<Option<Fr>>,
    constant_index: HashMap<Fr, u32>,
    /// Rotations modulo the rows.
    queries: Vec<(usize, u32)>,
    query_index: HashMap<(usize, u32), u32>,
}

impl Trace {
    fn constant(&mut self, c: Fr) -> Operand {
        let next = self.constants.len() as u32;
        let index = *self.constant_index.entry(c).or_insert(next);
        if index == next {
            self.constants.push(Some(c));
        }
        Operand::Constant(index)
    }

    fn query(&mut self, slot: usize, rotation: u32) -> Operand {
        let next = self.queries.len() as u32;
        let index = *self.query_index.entry((slot, rotation)).or_insert(next);
        if index == next {
            self.queries.push((slot, rotation));
        }
        Operand::Query(index)
    }

    fn operand(&mut self, value: &Traced) -> Operand {
        match value {
            Traced::Known(c) => self.constant(*c),
            Traced::At(_, operand) => *operand,
        }
    }

    /// `a op b`, shared where it was computed before.
    fn op(&mut self, op: u32, a: Operand, b: Operand) -> Operand {
        let (a, b) = if op != SUB && b < a { (b, a) } else { (a, b) };
        let next = self.ops.len() as u32;
        let index = *self.memo.entry((op, a, b)).or_insert(next);
        if index == next {
            self.ops.push((op, a, b));
        }
        Operand::Op(index)
    }
}

/// A value being traced: a constant not yet needed by the trace, or where the trace keeps it.
#[derive(Clone)]
enum Traced {
    Known(Fr),
    At(Rc<RefCell<Trace>>, Operand),
}

impl Traced {
    /// `self op rhs`, folded where the values make it known or trivial, else recorded.
    fn op(self, op: u32, rhs: Traced) -> Traced {
        if let (Traced::Known(x), Traced::Known(y)) = (&self, &rhs) {
            return Traced::Known(apply(op, *x, *y));
        }
        let is = |v: &Traced, c: Fr| matches!(v, Traced::Known(k) if *k == c);
        match op {
            ADD if is(&self, Fr::ZERO) => return rhs,
            ADD | SUB if is(&rhs, Fr::ZERO) => return self,
            MUL if is(&self, Fr::ZERO) || is(&rhs, Fr::ZERO) => return Traced::Known(Fr::ZERO),
            MUL if is(&self, Fr::ONE) => return rhs,
            MUL if is(&rhs, Fr::ONE) => return self,
            _ => {}
        }
        let trace = match (&self, &rhs) {
            (Traced::At(trace, _), _) | (_, Traced::At(trace, _)) => trace.clone(),
            _ => unreachable!("two known values are folded above"),
        };
        let operand = {
            let mut t = trace.borrow_mut();
            let (a, b) = (t.operand(&self), t.operand(&rhs));
            t.op(op, a, b)
        };
        Traced::At(trace, operand)
    }
}

fn apply(op: u32, x: Fr, y: Fr) -> Fr {
    match op {
        ADD => x + y,
        SUB => x - y,
        _ => x * y,
    }
}

impl Add for Traced {
    type Output = Traced;
    fn add(self, rhs: Traced) -> Traced {
        self.op(ADD, rhs)
    }
}

impl Sub for Traced {
    type Output = Traced;
    fn sub(self, rhs: Traced) -> Traced {
        self.op(SUB, rhs)
    }
}

impl Mul for Traced {
    type Output = Traced;
    fn mul(self, rhs: Traced) -> Traced {
        self.op(MUL, rhs)
    }
}

impl Neg for Traced {
    type Output = Traced;
    fn neg(self) -> Traced {
        Traced::Known(Fr::ZERO).op(SUB, self)
    }
}

impl Value for Traced {
    fn constant(c: Fr) -> Self {
        Traced::Known(c)
    }
    fn is_zero(&self) -> bool {
        matches!(self, Traced::Known(c) if Zero::is_zero(c))
    }
}

/// The values of the polynomials at a point, each read through its slot by `at(slot, rotation)`:
/// queries of the trace when tracing.
struct BySlot<'a, F> {
    slots: &'a Slots,
    at: F,
}

impl<T, F: Fn(usize, i32) -> T> PointValues<T> for BySlot<'_, F> {
    fn x(&self) -> T {
        (self.at)(self.slots.x, 0)
    }
    fn cell(&self, q: Query) -> T {
        let first = match q.column.kind {
            ColumnKind::Advice => self.slots.advice,
            ColumnKind::Fixed => self.slots.fixed,
            ColumnKind::Instance => self.slots.instance,
        };
        (self.at)(first + q.column.index, q.rotation)
    }
    fn sigma(&self, i: usize) -> T {
        (self.at)(self.slots.sigma + i, 0)
    }
    fn product(&self, j: usize, rotation: i32) -> T {
        (self.at)(self.slots.products + j, rotation)
    }
    fn multiplicity(&self, l: usize) -> T {
        (self.at)(self.slots.multiplicity + l, 0)
    }
    fn running_sum(&self, l: usize, rotation: i32) -> T {
        (self.at)(self.slots.running_sums + l, rotation)
    }
    fn l_first(&self) -> T {
        (self.at)(self.slots.markers, 0)
    }
    fn l_last(&self) -> T {
        (self.at)(self.slots.markers + 1, 0)
    }
    fn l_active(&self) -> T {
        (self.at)(self.slots.markers + 2, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use zkinfer_verifier::{Column, Expression, Gate, Lookup};

    /// The traced program equals the verifier's own evaluation of the identities at every point,
    /// for random values of every polynomial: gates with rotations, constants that fold (a zero
    /// factor, a factor of one, a repeated subexpression), several grand products and lookups.
    #[test]
    fn the_program_computes_what_the_verifier_computes() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let cell = |column: Column, rotation: i32| Expression::cell(column, rotation);
        let (q, t) = (Column::fixed(0), Column::fixed(1));
        let [a, b, c] = [0, 1, 2].map(Column::advice);
        let shared = cell(a, 0) * cell(b, 0);
        let gates = vec![
            Gate {
                name: "mul-add".into(),
                polys: vec![
                    cell(q, 0) * (shared.clone() + cell(c, -1) - cell(c, 1)),
                    cell(q, 0) * (shared.clone() * Expression::constant(1u64) - cell(a, 2) * Expression::constant(0u64)),
                ],
            },
            Gate { name: "negated".into(), polys: vec![-(cell(b, 0) * cell(Column::instance(0), 0)) + shared] },
        ];
        let lookups = (0..2)
            .map(|l| Lookup {
                name: format!("range {l}"),
                selector: cell(q, 0),
                inputs: vec![cell([a, c][l], 0), Expression::constant(7u64)],
                table: vec![cell(t, 0), Expression::constant(7u64)],
            })
            .collect();
        let permutation = vec![a, b, c, Column::instance(0), q, t];
        let d = CircuitDescription { k: 4, num_fixed: 2, num_advice: 3, num_instance: 1, gates, lookups, permutation };
        let layout = d.layout(1);
        assert!(layout.num_products > 1, "chunks of the permutation meet");
        // Then with the selector `q` (fixed column 0) all zero: its gates fold away, and the
        // program no longer reads it.
        for zero in [vec![], vec![true, false]] {
            let program = Program::new(&d, &layout, &zero);
            let slots = Slots::new(&d, &layout);
            assert_eq!((program.key_slots, program.slots), (slots.advice, slots.end));
            assert_eq!(program.queries.iter().any(|q| q[0] == 0), zero.is_empty());

            let n = layout.n;
            let mut values: Vec<Vec<Fr>> = (0..slots.end).map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect()).collect();
            if !zero.is_empty() {
                values[slots.fixed] = vec![Fr::zero(); n];
            }
            let challenges = Challenges { theta: Fr::rand(&mut rng), beta: Fr::rand(&mut rng), gamma: Fr::rand(&mut rng), kappa: Fr::rand(&mut rng), y: Fr::rand(&mut rng) };
            let constants = program.constants(&challenges);
            let mut registers = Registers::new(program.registers);
            let constraints = Constraints::new(&d, &layout, challenges);
            for start in (0..n).step_by(5) {
                let mut out = vec![Fr::zero(); 5.min(n - start)];
                program.run(&constants, &values, start, &mut out, &mut registers);
                for (p, got) in out.iter().enumerate() {
                    let i = (start + p) as i64;
                    let at = |slot: usize, rotation: i32| values[slot][(i + rotation as i64).rem_euclid(n as i64) as usize];
                    let expected = constraints.combine(&BySlot { slots: &slots, at });
                    assert_eq!(*got, expected, "point {}", start + p);
                }
            }
        }
    }
}
