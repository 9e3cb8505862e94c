//! The circuit description carried in the verifying key, and the layout derived from it:
//! which cells are queried, how many rows are blinded, which polynomials are opened where.

use crate::encoding::Reader;
use crate::error::{malformed, Error};
use crate::expression::{Column, ColumnKind, Expression, Query};
use ark_bn254::Fr;
use ark_ff::{FftField, Field};
use core::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Named polynomial constraints that must vanish on every usable row.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// What the gate checks, for messages and for the Solidity verifier's comments.
    pub name: String,
    /// The polynomials that must each vanish.
    pub polys: Vec<Expression>,
}

/// On every usable row where `selector` is non-zero, the tuple `inputs` must equal the tuple
/// `table` at some usable row. `selector` should be a 0/1 fixed selector; `table` may only
/// read fixed columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// What the lookup checks, for messages and for the Solidity verifier's comments.
    pub name: String,
    /// The rows where the lookup applies: 1 there, 0 elsewhere.
    pub selector: Expression,
    /// The looked-up tuple, one expression per table column.
    pub inputs: Vec<Expression>,
    /// The table's tuple, as many expressions as `inputs`.
    pub table: Vec<Expression>,
}

/// A circuit as the verifying key states it: its columns, gates, lookups and the columns of its
/// copy constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitDescription {
    /// The circuit has 2^k rows.
    pub k: u32,
    /// Fixed columns (values in the verifying key).
    pub num_fixed: usize,
    /// Advice columns (the prover's witness).
    pub num_advice: usize,
    /// Instance columns (the public values).
    pub num_instance: usize,
    /// The gates, in the order the identities combine them.
    pub gates: Vec<Gate>,
    /// The lookups, in the order the identities combine them.
    pub lookups: Vec<Lookup>,
    /// Columns whose cells may be constrained equal, in permutation order.
    pub permutation: Vec<Column>,
}

/// The most rows a circuit may have: 2^MAX_K.
pub const MAX_K: u32 = 26;
/// The most evaluations a packed group may add to save a commitment: on the EVM an evaluation
/// costs about 570 gas (calldata, range check, its share of the interpolation), a commitment
/// about 7,500 (an `ecMul`, an `ecAdd` and 64 bytes of calldata).
pub const MERGE_EVALUATIONS: usize = 12;
/// The largest degree of any constraint; it fixes the extension of the quotient's coset.
pub const MAX_DEGREE: usize = 9;
const MAX_ITEMS: usize = 1 << 16;

/// A polynomial the prover opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Poly {
    /// The i-th advice column.
    Advice(usize),
    /// The i-th fixed column.
    Fixed(usize),
    /// The permutation polynomial of the i-th permutation column.
    Sigma(usize),
    /// The grand product of the j-th chunk of permutation columns.
    PermutationProduct(usize),
    /// LogUp multiplicities of the l-th lookup.
    Multiplicity(usize),
    /// LogUp running sum of the l-th lookup.
    RunningSum(usize),
}

/// One claimed evaluation: `poly` at `omega^rotation * x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The polynomial evaluated.
    pub poly: Poly,
    /// Rows from `x`: the point is `omega^rotation * x`.
    pub rotation: i32,
}

/// Which message of the protocol carries a commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Round {
    /// The verifying key: fixed and permutation polynomials.
    Key,
    /// The proof's first round: advice columns and lookup multiplicities.
    Witness,
    /// The proof's second round: grand products and running sums.
    Argument,
}

/// Polynomials committed together, packed as `g(X) = sum_i X^i f_i(X^t)` (fflonk's packing,
/// docs/protocol.md §3.7): `f_i(y)` for all `i < t` are the coefficients of `g` modulo
/// `X^t - y`, so one commitment serves `t` polynomials opened at the same points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// The message that carries it.
    pub round: Round,
    /// At most `t`; the missing members are zero.
    pub polys: Vec<Poly>,
    /// The packing factor, a power of two; 1 for a polynomial committed on its own.
    pub t: usize,
    /// The index in `Layout::point_sets` of the set it is opened on; `None` for a column that
    /// no constraint reads (committed, never opened).
    pub set: Option<usize>,
}

/// Commitments opened on the same points: the `t`-th roots of `omega^r x` for each rotation
/// `r`, so the vanishing polynomial of the set is `prod_r (X^t - omega^r x)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointSet {
    /// The packing factor of the set's commitments.
    pub t: usize,
    /// Ascending.
    pub rotations: Vec<i32>,
    /// Indices into `Layout::commitments`, ascending. The quotient, opened at rotation 0 with
    /// `t = 1`, is not listed: it comes after these in the set `Layout::quotient_set`.
    pub commitments: Vec<usize>,
}

/// Everything derived from the description that prover and verifier must agree on.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The circuit has 2^k rows.
    pub k: u32,
    /// The number of rows, `2^k`.
    pub n: usize,
    /// The generator of the `n`-th roots of unity that index the rows.
    pub omega: Fr,
    /// Maximum constraint degree the quotient supports: `extension + 1`.
    pub degree: usize,
    /// The quotient is evaluated on a coset of size `extension * n`.
    pub extension: usize,
    /// The largest number of polynomials in one commitment (a power of two).
    pub pack: usize,
    /// The quotient is committed in pieces of `quotient_span * n` coefficients:
    /// `min(extension, pack)`.
    pub quotient_span: usize,
    /// Permutation columns per grand-product polynomial.
    pub chunk: usize,
    /// Grand-product polynomials of the permutation argument: the permutation columns in
    /// chunks of `chunk`.
    pub num_products: usize,
    /// Rows at the end filled with random values for zero knowledge.
    pub blinding_rows: usize,
    /// Rows `0..usable_rows` hold the circuit; row `usable_rows` is the last-row marker.
    pub usable_rows: usize,
    /// The advice cells the constraints read: `(column, rotation)`, each once.
    pub advice_queries: Vec<(usize, i32)>,
    /// The fixed cells the constraints read: `(column, rotation)`, each once.
    pub fixed_queries: Vec<(usize, i32)>,
    /// The instance cells the constraints read: `(column, rotation)`, each once.
    pub instance_queries: Vec<(usize, i32)>,
    /// The evaluations in the proof, in proof order.
    pub openings: Vec<Opening>,
    /// The distinct rotations opened, ascending; the quotient is opened at rotation 0.
    pub rotations: Vec<i32>,
    /// The key's commitments, then the proof's two rounds, each in the order of its first
    /// polynomial (§3.7).
    pub commitments: Vec<Commitment>,
    /// In order of first appearance in `commitments`, then `(1, [0])` if none has it.
    pub point_sets: Vec<PointSet>,
    /// The index of the set `(1, [0])` in `point_sets`, where the quotient is opened.
    pub quotient_set: usize,
    /// `openings` by polynomial and rotation.
    opening_indices: HashMap<(Poly, i32), usize>,
}

impl CircuitDescription {
    /// Appends the description's encoding, as the verifying key carries it.
    pub fn write(&self, out: &mut Vec<u8>) {
        let put = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u32).to_be_bytes());
        let put_str = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        put(out, self.k as usize);
        put(out, self.num_fixed);
        put(out, self.num_advice);
        put(out, self.num_instance);
        put(out, self.gates.len());
        for g in &self.gates {
            put_str(out, &g.name);
            put(out, g.polys.len());
            g.polys.iter().for_each(|p| p.write(out));
        }
        put(out, self.lookups.len());
        for l in &self.lookups {
            put_str(out, &l.name);
            l.selector.write(out);
            put(out, l.inputs.len());
            l.inputs.iter().chain(&l.table).for_each(|e| e.write(out));
        }
        put(out, self.permutation.len());
        for c in &self.permutation {
            out.push(c.kind as u8);
            put(out, c.index);
        }
    }

    /// Reads a description that `write` encoded; `Error::Malformed` for anything else.
    pub fn read(r: &mut Reader) -> Result<Self, Error> {
        let k = r.u32()?;
        let num_fixed = r.len(MAX_ITEMS, "fixed columns")?;
        let num_advice = r.len(MAX_ITEMS, "advice columns")?;
        let num_instance = r.len(MAX_ITEMS, "instance columns")?;
        let gates = (0..r.len(MAX_ITEMS, "gates")?)
            .map(|_| {
                let name = r.string()?;
                let polys = (0..r.len(MAX_ITEMS, "gate polynomials")?).map(|_| Expression::read(r, 0)).collect::<Result<_, _>>()?;
                Ok(Gate { name, polys })
            })
            .collect::<Result<_, Error>>()?;
        let lookups = (0..r.len(MAX_ITEMS, "lookups")?)
            .map(|_| {
                let name = r.string()?;
                let selector = Expression::read(r, 0)?;
                let width = r.len(MAX_ITEMS, "lookup width")?;
                let inputs = (0..width).map(|_| Expression::read(r, 0)).collect::<Result<_, _>>()?;
                let table = (0..width).map(|_| Expression::read(r, 0)).collect::<Result<_, _>>()?;
                Ok(Lookup { name, selector, inputs, table })
            })
            .collect::<Result<_, Error>>()?;
        let permutation = (0..r.len(MAX_ITEMS, "permutation columns")?)
            .map(|_| {
                let kind = match r.u8()? {
                    0 => ColumnKind::Fixed,
                    1 => ColumnKind::Advice,
                    2 => ColumnKind::Instance,
                    t => return Err(malformed(format!("unknown column kind {t}"))),
                };
                Ok(Column { kind, index: r.u32()? as usize })
            })
            .collect::<Result<_, Error>>()?;
        let d = CircuitDescription { k, num_fixed, num_advice, num_instance, gates, lookups, permutation };
        d.validate()?;
        Ok(d)
    }

    /// Checks that every reference is in range and the circuit fits the protocol's limits.
    pub fn validate(&self) -> Result<(), Error> {
        if !(2..=MAX_K).contains(&self.k) {
            return Err(malformed(format!("k = {} is outside 2..={MAX_K}", self.k)));
        }
        let n = 1i64 << self.k;
        let check_query = |q: Query, context: &str| -> Result<(), Error> {
            let count = match q.column.kind {
                ColumnKind::Fixed => self.num_fixed,
                ColumnKind::Advice => self.num_advice,
                ColumnKind::Instance => self.num_instance,
            };
            if q.column.index >= count {
                return Err(malformed(format!("{context}: {:?} column {} does not exist", q.column.kind, q.column.index)));
            }
            if 4 * (q.rotation as i64).abs() >= n {
                return Err(malformed(format!("{context}: rotation {} is too large for 2^{} rows", q.rotation, self.k)));
            }
            Ok(())
        };
        let check_expr = |e: &Expression, context: &str| -> Result<(), Error> {
            let mut result = Ok(());
            e.for_each_query(&mut |q| {
                if result.is_ok() {
                    result = check_query(q, context);
                }
            });
            result
        };
        for g in &self.gates {
            for p in &g.polys {
                check_expr(p, &format!("gate '{}'", g.name))?;
            }
        }
        for l in &self.lookups {
            let context = format!("lookup '{}'", l.name);
            check_expr(&l.selector, &context)?;
            if l.inputs.is_empty() {
                return Err(malformed(format!("{context} has no inputs")));
            }
            for e in l.inputs.iter().chain(&l.table) {
                check_expr(e, &context)?;
            }
            let mut selector_ok = true;
            l.selector.for_each_query(&mut |q| selector_ok &= q.column.kind == ColumnKind::Fixed);
            if !selector_ok {
                return Err(malformed(format!("{context}: the selector may only read fixed columns")));
            }
            let mut table_ok = true;
            l.table.iter().for_each(|t| t.for_each_query(&mut |q| table_ok &= q.column.kind == ColumnKind::Fixed && q.rotation == 0));
            if !table_ok {
                return Err(malformed(format!("{context}: table expressions may only read fixed columns at rotation 0")));
            }
        }
        let mut seen = self.permutation.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.permutation.len() {
            return Err(malformed("a column appears twice in the permutation"));
        }
        for c in &self.permutation {
            check_query(Query { column: *c, rotation: 0 }, "permutation")?;
        }
        let degree = self.required_degree();
        if degree > MAX_DEGREE {
            return Err(malformed(format!("constraint degree {degree} exceeds the maximum {MAX_DEGREE}")));
        }
        let extension = (degree - 1).next_power_of_two();
        if (1u64 << self.k) * extension as u64 > 1 << 28 {
            return Err(malformed(format!("2^{} rows at degree {degree} exceed the field's 2^28 roots of unity", self.k)));
        }
        let layout_rows = self.blinding_rows() + 2;
        if layout_rows >= 1 << self.k {
            return Err(malformed(format!("2^{} rows cannot hold {} blinding rows", self.k, layout_rows - 2)));
        }
        Ok(())
    }

    /// The highest degree among gates, the permutation argument (at least 3) and lookups.
    pub fn required_degree(&self) -> usize {
        let gates = self.gates.iter().flat_map(|g| &g.polys).map(|p| p.degree()).max().unwrap_or(0);
        let lookups = self
            .lookups
            .iter()
            .map(|l| {
                let df = l.inputs.iter().map(|e| e.degree()).max().unwrap_or(0);
                let dt = l.table.iter().map(|e| e.degree()).max().unwrap_or(0);
                1 + (1 + df + dt).max(l.selector.degree() + dt)
            })
            .max()
            .unwrap_or(0);
        gates.max(lookups).max(3)
    }

    fn advice_rotations(&self) -> Vec<(usize, i32)> {
        let mut out = Vec::new();
        let mut visit = |q: Query| {
            if q.column.kind == ColumnKind::Advice {
                out.push((q.column.index, q.rotation));
            }
        };
        self.gates.iter().flat_map(|g| &g.polys).for_each(|p| p.for_each_query(&mut visit));
        for l in &self.lookups {
            l.selector.for_each_query(&mut visit);
            l.inputs.iter().for_each(|e| e.for_each_query(&mut visit));
        }
        out
    }

    /// Rows at the end of every column that the circuit cannot use: the blinding rows and the
    /// last-row marker. They do not depend on `k`.
    pub fn reserved_rows(&self) -> usize {
        self.blinding_rows() + 1
    }

    fn blinding_rows(&self) -> usize {
        let mut q = self.advice_rotations();
        q.sort();
        q.dedup();
        let mut per_column = vec![0usize; self.num_advice];
        q.iter().for_each(|&(c, _)| per_column[c] += 1);
        let most = per_column.into_iter().max().unwrap_or(0);
        // A column opened at m points and committed once reveals m + 1 linear functionals of
        // its values; the permutation products are opened at 3 points. One row of margin.
        most.max(3) + 2
    }

    /// The layout when at most `pack` polynomials (a power of two) share a commitment.
    pub fn layout(&self, pack: usize) -> Layout {
        debug_assert!(pack.is_power_of_two());
        let k = self.k;
        let n = 1usize << k;
        let extension = (self.required_degree() - 1).next_power_of_two();
        let degree = extension + 1;
        let chunk = degree - 2;
        let num_products = self.permutation.len().div_ceil(chunk);
        let blinding_rows = self.blinding_rows();
        let usable_rows = n - blinding_rows - 1;

        let mut advice = Vec::new();
        let mut fixed = Vec::new();
        let mut instance = Vec::new();
        let mut visit = |q: Query| {
            let list = match q.column.kind {
                ColumnKind::Advice => &mut advice,
                ColumnKind::Fixed => &mut fixed,
                ColumnKind::Instance => &mut instance,
            };
            list.push((q.column.index, q.rotation));
        };
        self.gates.iter().flat_map(|g| &g.polys).for_each(|p| p.for_each_query(&mut visit));
        for l in &self.lookups {
            l.selector.for_each_query(&mut visit);
            l.inputs.iter().chain(&l.table).for_each(|e| e.for_each_query(&mut visit));
        }
        for c in &self.permutation {
            visit(Query { column: *c, rotation: 0 });
        }
        for list in [&mut advice, &mut fixed, &mut instance] {
            list.sort();
            list.dedup();
        }

        let last = usable_rows as i32;
        let mut openings = Vec::new();
        openings.extend(advice.iter().map(|&(c, r)| Opening { poly: Poly::Advice(c), rotation: r }));
        openings.extend(fixed.iter().map(|&(c, r)| Opening { poly: Poly::Fixed(c), rotation: r }));
        openings.extend((0..self.permutation.len()).map(|i| Opening { poly: Poly::Sigma(i), rotation: 0 }));
        for j in 0..num_products {
            openings.push(Opening { poly: Poly::PermutationProduct(j), rotation: 0 });
            openings.push(Opening { poly: Poly::PermutationProduct(j), rotation: 1 });
            if j + 1 < num_products {
                openings.push(Opening { poly: Poly::PermutationProduct(j), rotation: last });
            }
        }
        for l in 0..self.lookups.len() {
            openings.push(Opening { poly: Poly::Multiplicity(l), rotation: 0 });
            openings.push(Opening { poly: Poly::RunningSum(l), rotation: 0 });
            openings.push(Opening { poly: Poly::RunningSum(l), rotation: 1 });
        }
        let mut rotations: Vec<i32> = openings.iter().map(|o| o.rotation).chain([0]).collect();
        rotations.sort();
        rotations.dedup();
        let rounds: [(Round, Vec<Poly>); 3] = [
            (Round::Key, (0..self.num_fixed).map(Poly::Fixed).chain((0..self.permutation.len()).map(Poly::Sigma)).collect()),
            (Round::Witness, (0..self.num_advice).map(Poly::Advice).chain((0..self.lookups.len()).map(Poly::Multiplicity)).collect()),
            (Round::Argument, (0..num_products).map(Poly::PermutationProduct).chain((0..self.lookups.len()).map(Poly::RunningSum)).collect()),
        ];
        let groups = group(&openings, pack, &rounds);
        let (groups, added) = merge(groups, pack);
        openings.extend(added);
        let mut point_sets: Vec<PointSet> = Vec::new();
        let mut set_index: HashMap<(usize, Vec<i32>), usize> = HashMap::new();
        let mut commitments = Vec::new();
        for Group { round, rotations, members: polys } in groups {
            let t = polys.len().next_power_of_two();
            let set = (!rotations.is_empty()).then(|| {
                let index = *set_index.entry((t, rotations.clone())).or_insert_with(|| {
                    point_sets.push(PointSet { t, rotations, commitments: vec![] });
                    point_sets.len() - 1
                });
                point_sets[index].commitments.push(commitments.len());
                index
            });
            commitments.push(Commitment { round, polys, t, set });
        }
        let quotient_set = match point_sets.iter().position(|s| s.t == 1 && s.rotations == [0]) {
            Some(i) => i,
            None => {
                point_sets.push(PointSet { t: 1, rotations: vec![0], commitments: vec![] });
                point_sets.len() - 1
            }
        };

        let opening_indices = openings.iter().enumerate().map(|(i, o)| ((o.poly, o.rotation), i)).collect();
        Layout {
            k,
            n,
            omega: Fr::get_root_of_unity(n as u64).expect("BN254 has 2^28-th roots of unity"),
            degree,
            extension,
            pack,
            quotient_span: extension.min(pack),
            chunk,
            num_products,
            blinding_rows,
            usable_rows,
            advice_queries: advice,
            fixed_queries: fixed,
            instance_queries: instance,
            openings,
            rotations,
            commitments,
            point_sets,
            quotient_set,
            opening_indices,
        }
    }
}

/// Polynomials committed together while the layout is made: their round, the rotations they
/// are opened at, and the polynomials.
struct Group {
    round: Round,
    rotations: Vec<i32>,
    members: Vec<Poly>,
}

/// Each polynomial joins the open commitment of its round with the same rotations and room
/// left, in the order the rounds list their polynomials; a polynomial opened nowhere gets a
/// commitment of its own.
fn group(openings: &[Opening], pack: usize, rounds: &[(Round, Vec<Poly>)]) -> Vec<Group> {
    let mut rotations_of: HashMap<Poly, Vec<i32>> = HashMap::new();
    openings.iter().for_each(|o| rotations_of.entry(o.poly).or_default().push(o.rotation));
    rotations_of.values_mut().for_each(|r| r.sort());
    let mut groups: Vec<Group> = Vec::new();
    for (round, polys) in rounds {
        // The group of this round still open for each set of rotations.
        let mut open: HashMap<Vec<i32>, usize> = HashMap::new();
        for &poly in polys {
            let rotations = rotations_of.get(&poly).cloned().unwrap_or_default();
            match open.get(&rotations).copied().filter(|&g| groups[g].members.len() < pack) {
                Some(g) => groups[g].members.push(poly),
                None => {
                    if !rotations.is_empty() {
                        open.insert(rotations.clone(), groups.len());
                    }
                    groups.push(Group { round: *round, rotations, members: vec![poly] });
                }
            }
        }
    }
    groups
}

/// A group then joins the group of its round whose rotations strictly contain its own and that
/// adds the fewest evaluations, if it has room and they are at most `MERGE_EVALUATIONS`: its
/// polynomials are also opened at the other rotations (§3.7). Such sets belong to other
/// polynomials of the round, so no witness column is opened at more points than its blinding
/// rows allow (§3.3). Merges go cheapest first, ties to the earlier group, then to the earlier
/// target; returns the groups left, in order, and the openings the merges added.
///
/// The pairs that may merge are found once (rotations never change) through the groups that
/// hold each rotation; a heap keeps them by cost. A merge only grows its target, so a pair's
/// cost only rises and its room only shrinks: a popped pair whose cost has risen goes back in,
/// and the first popped pair whose cost is current is the cheapest of all.
fn merge(groups: Vec<Group>, pack: usize) -> (Vec<Group>, Vec<Opening>) {
    let mut holding: HashMap<(Round, i32), Vec<usize>> = HashMap::new();
    for (h, g) in groups.iter().enumerate() {
        g.rotations.iter().for_each(|&r| holding.entry((g.round, r)).or_default().push(h));
    }
    let cost = |groups: &[Group], g: usize, h: usize| {
        let (from, to) = (&groups[g], &groups[h]);
        let cost = from.members.len() * (to.rotations.len() - from.rotations.len());
        (from.members.len() + to.members.len() <= pack && cost <= MERGE_EVALUATIONS).then_some(cost)
    };
    let mut heap = BinaryHeap::new();
    for (g, from) in groups.iter().enumerate() {
        let Some(rarest) = from.rotations.iter().map(|&r| &holding[&(from.round, r)]).min_by_key(|list| list.len()) else { continue };
        for &h in rarest {
            let to = &groups[h];
            let strict_superset = to.rotations.len() > from.rotations.len()
                && to.rotations.len() - from.rotations.len() <= MERGE_EVALUATIONS
                && from.rotations.iter().all(|r| to.rotations.binary_search(r).is_ok());
            if let Some(c) = cost(&groups, g, h).filter(|_| strict_superset) {
                heap.push(Reverse((c, g, h)));
            }
        }
    }
    let mut groups = groups;
    let mut alive = vec![true; groups.len()];
    let mut added = Vec::new();
    while let Some(Reverse((c, g, h))) = heap.pop() {
        if !(alive[g] && alive[h]) {
            continue;
        }
        match cost(&groups, g, h) {
            Some(now) if now == c => {}
            Some(now) => {
                heap.push(Reverse((now, g, h)));
                continue;
            }
            None => continue,
        }
        alive[g] = false;
        let members = core::mem::take(&mut groups[g].members);
        for &poly in &members {
            let extra = groups[h].rotations.iter().filter(|r| !groups[g].rotations.contains(r));
            added.extend(extra.map(|&rotation| Opening { poly, rotation }));
        }
        groups[h].members.extend(members);
    }
    let groups = groups.into_iter().zip(alive).filter(|(_, alive)| *alive).map(|(g, _)| g).collect();
    (groups, added)
}

impl Layout {
    /// `omega^rotation`.
    pub fn rotate(&self, rotation: i32) -> Fr {
        let p = self.omega.pow([rotation.unsigned_abs() as u64]);
        if rotation < 0 {
            p.inverse().expect("roots of unity are invertible")
        } else {
            p
        }
    }

    /// The commitments the quotient is split into: `extension / quotient_span`.
    pub fn num_quotient_pieces(&self) -> usize {
        self.extension / self.quotient_span
    }

    /// The commitments a message carries, in order.
    pub fn commitments_of(&self, round: Round) -> impl Iterator<Item = &Commitment> {
        self.commitments.iter().filter(move |c| c.round == round)
    }

    /// The largest degree of a committed polynomial plus one: the SRS powers of tau, from
    /// `tau^0`, that key generation and proving need. A packed commitment has degree below
    /// `t n`; a quotient piece has `quotient_span n` coefficients, one more when there are
    /// several (§7's blinding).
    pub fn srs_powers(&self) -> usize {
        let t = self.commitments.iter().map(|c| c.t).max().unwrap_or(1);
        (t * self.n).max(self.quotient_span * self.n + (self.num_quotient_pieces() > 1) as usize)
    }

    /// Index of `rotation` in `rotations`.
    pub fn rotation_index(&self, rotation: i32) -> usize {
        self.rotations.binary_search(&rotation).expect("every opened rotation is listed")
    }

    /// Index into the evaluations of the opening of `poly` at `rotation`.
    pub fn opening_index(&self, poly: Poly, rotation: i32) -> usize {
        *self.opening_indices.get(&(poly, rotation)).expect("every polynomial the constraints read is opened")
    }

    /// The coset shift of the permutation identity column `i`: `delta^i` with `delta` the
    /// multiplicative generator, so the cosets `delta^i * H` are disjoint.
    pub fn permutation_shift(i: usize) -> Fr {
        Fr::GENERATOR.pow([i as u64])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::Column;

    /// The grouping and merging as first written, pair by pair: the reference the fast version
    /// must match layout for layout, since prover and verifier derive the proof's shape from it.
    fn reference(openings: &mut Vec<Opening>, pack: usize, rounds: [(Round, Vec<Poly>); 3]) -> Vec<(Round, Vec<i32>, Vec<Poly>)> {
        let rotations_of = |poly: Poly| -> Vec<i32> {
            let mut set: Vec<i32> = openings.iter().filter(|o| o.poly == poly).map(|o| o.rotation).collect();
            set.sort();
            set
        };
        let mut groups: Vec<(Round, Vec<i32>, Vec<Poly>)> = Vec::new();
        for (round, polys) in rounds {
            let first = groups.len();
            for poly in polys {
                let rotations = rotations_of(poly);
                let open = groups[first..].iter_mut().find(|(_, r, members)| !rotations.is_empty() && *r == rotations && members.len() < pack);
                match open {
                    Some((_, _, members)) => members.push(poly),
                    None => groups.push((round, rotations, vec![poly])),
                }
            }
        }
        let mut added = Vec::new();
        loop {
            let cost = |g: usize, h: usize| {
                let ((round, rotations, members), (other_round, other, other_members)) = (&groups[g], &groups[h]);
                let fits = g != h
                    && round == other_round
                    && !rotations.is_empty()
                    && other.len() > rotations.len()
                    && rotations.iter().all(|r| other.contains(r))
                    && members.len() + other_members.len() <= pack;
                fits.then(|| members.len() * (other.len() - rotations.len())).filter(|&c| c <= MERGE_EVALUATIONS)
            };
            let best = (0..groups.len()).flat_map(|g| (0..groups.len()).map(move |h| (g, h))).filter_map(|(g, h)| cost(g, h).map(|c| (c, g, h))).min();
            let Some((_, g, h)) = best else { break };
            let (_, rotations, members) = groups.remove(g);
            let h = if h > g { h - 1 } else { h };
            for &poly in &members {
                let extra = groups[h].1.iter().filter(|r| !rotations.contains(r));
                added.extend(extra.map(|&rotation| Opening { poly, rotation }));
            }
            groups[h].2.extend(members);
        }
        openings.extend(added);
        groups
    }

    /// A small deterministic generator, so the test needs no dependency.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn grouping_matches_the_pairwise_reference() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        let mut merged = 0;
        for _ in 0..300 {
            let (num_advice, num_fixed) = (1 + rng.below(12) as usize, 1 + rng.below(6) as usize);
            let query = |rng: &mut Rng| {
                let kind = if rng.below(3) == 0 { ColumnKind::Fixed } else { ColumnKind::Advice };
                let count = if kind == ColumnKind::Fixed { num_fixed } else { num_advice };
                Expression::Cell(Query { column: Column { kind, index: rng.below(count as u64) as usize }, rotation: rng.below(7) as i32 - 3 })
            };
            let gates = (0..1 + rng.below(6)).map(|g| Gate { name: format!("g{g}"), polys: vec![query(&mut rng) * query(&mut rng) - query(&mut rng)] }).collect();
            let permutation = (0..rng.below(num_advice as u64)).map(|i| Column::advice(i as usize)).collect();
            let d = CircuitDescription { k: 8, num_fixed, num_advice, num_instance: 0, gates, lookups: vec![], permutation };
            let pack = 1 << rng.below(5);
            let layout = d.layout(pack);
            let base = layout.advice_queries.len() + layout.fixed_queries.len() + d.permutation.len() + 3 * layout.num_products - layout.num_products.min(1);
            let mut openings = layout.openings[..base].to_vec();
            let expected = reference(&mut openings, pack, rounds(&d, layout.num_products));
            let (groups, added) = merge(group(&layout.openings[..base], pack, &rounds(&d, layout.num_products)), pack);
            let got: Vec<(Round, Vec<i32>, Vec<Poly>)> = groups.into_iter().map(|g| (g.round, g.rotations, g.members)).collect();
            assert_eq!(got, expected, "{d:?}, pack {pack}");
            assert_eq!(layout.openings[base..], added[..], "{d:?}, pack {pack}");
            assert_eq!(layout.openings, openings, "{d:?}, pack {pack}");
            merged += !added.is_empty() as usize;
        }
        assert!(merged > 20, "only {merged} layouts merged a group");
    }

    fn rounds(d: &CircuitDescription, num_products: usize) -> [(Round, Vec<Poly>); 3] {
        [
            (Round::Key, (0..d.num_fixed).map(Poly::Fixed).chain((0..d.permutation.len()).map(Poly::Sigma)).collect()),
            (Round::Witness, (0..d.num_advice).map(Poly::Advice).collect()),
            (Round::Argument, (0..num_products).map(Poly::PermutationProduct).collect()),
        ]
    }
}
