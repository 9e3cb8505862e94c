//! A Solidity verifier for one verifying key, and the calldata that calls it.
//!
//! [`solidity_verifier`] writes a self-contained contract whose
//! `verifyProof(bytes proof, uint256[] instances)` replays [`crate::verify`] on the EVM: the
//! proof bytes are exactly those of [`crate::Proof::to_bytes`], and since the proof lists its
//! parts in transcript order, every Keccak challenge is one hash over a region of memory. The
//! identities are [`crate::constraints::Constraints::combine`] itself, run over values that
//! record Yul (`identities`), so all verifiers share one definition; the openings are one MSM
//! through the `ecMul`/`ecAdd` precompiles (one multiplication per committed polynomial, however
//! many rotations open it) and one two-pair pairing. `docs/evm.md` measures where the gas goes and
//! what this protocol's floor is.
//!
//! A deployed verifier serves one model, so the number of public values in each instance
//! column is fixed into the contract: `instances` holds the columns concatenated, column by
//! column, with exactly the counts of the key's statement.
//!
//! `false` means exactly "the Rust verifier rejects this proof", never "too little gas": when a
//! precompile call fails, the contract checks the one input that could have been invalid (a
//! proof's point given to `ecMul`; every other input is a key constant or a precompile's own
//! output) and returns false only if that point is off the curve; otherwise the call ran out of
//! gas and the contract reverts. The check runs only on failure, so a valid proof costs no
//! more gas for it; points that no precompile sees are checked up front.

mod identities;
mod yul;

use crate::constraints::{Challenges, Constraints, Part, PointValues};
use crate::description::{Layout, Poly, Round};
use crate::encoding::{fr_to_bytes, g1_to_bytes, g2_to_bytes};
use crate::error::Error;
use crate::expression::{ColumnKind, Query};
use crate::proof::{Proof, PROOF_MAGIC};
use crate::transcript::keccak256;
use crate::vk::VerifyingKey;
use ark_bn254::{Fq, Fr, G1Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, Field, PrimeField};
use identities::{Recorder, Traced};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use yul::{fr_hex, hex, word_hex, Expr};

/// The Yul functions every verifier has; they read the memory map's names.
const HELPERS: &str = include_str!("helpers.yul");

/// The name of the contract [`solidity_verifier`] writes unless it is given another.
pub const CONTRACT_NAME: &str = "ZkinferVerifier";

/// The first four bytes of the calldata of `verifyProof`.
fn selector() -> [u8; 4] {
    keccak256(b"verifyProof(bytes,uint256[])")[..4].try_into().unwrap()
}

/// The ABI-encoded call `verifyProof(proof, instances)`, with the instance columns
/// concatenated in order.
pub fn calldata(proof: &[u8], instances: &[Vec<Fr>]) -> Vec<u8> {
    let word = |v: usize| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&(v as u64).to_be_bytes());
        w
    };
    let padded = proof.len().div_ceil(32) * 32;
    let values: Vec<&Fr> = instances.iter().flatten().collect();
    let mut out = selector().to_vec();
    out.extend_from_slice(&word(0x40));
    out.extend_from_slice(&word(0x40 + 32 + padded));
    out.extend_from_slice(&word(proof.len()));
    out.extend_from_slice(proof);
    out.resize(out.len() + padded - proof.len(), 0);
    out.extend_from_slice(&word(values.len()));
    values.iter().for_each(|v| out.extend_from_slice(&fr_to_bytes(v)));
    out
}

/// The Solidity source of a verifier for `vk`, as contract `name` (a Solidity identifier).
///
/// `verifyProof` returns true exactly when [`crate::verify`] accepts the same proof, and false
/// for every proof it rejects: a wrong number of public values or proof length, a wrong magic,
/// a public input or evaluation not below the scalar field order, a point off the curve, a
/// failed check. It reverts when the calldata is not an ABI encoding of `(bytes, uint256[])`,
/// and when a precompile call fails, which after the checks means it ran out of gas.
pub fn solidity_verifier(vk: &VerifyingKey, name: &str) -> Result<String, Error> {
    check_identifier(name)?;
    Ok(Generator::new(vk).contract(name))
}

/// Solidity identifiers: a letter, `_` or `$`, then those and digits.
fn check_identifier(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        return Err(Error::Malformed(format!("contract name {name:?} is not a Solidity identifier (letters, digits, _ and $, not starting with a digit)")));
    }
    Ok(())
}

/// Where a commitment comes from.
#[derive(Clone, Copy, PartialEq)]
enum Point {
    /// Bytes of the proof, at this offset.
    Proof(usize),
    Key(G1Affine),
}

/// Byte offsets of the parts of an encoded proof (see [`Proof::to_bytes`]).
#[derive(Clone, Copy)]
struct ProofLayout {
    len: usize,
    /// Commitments of the witness round; those of the argument round follow.
    num_witness: usize,
    num_commitments: usize,
    num_quotient: usize,
    evals: usize,
    num_evals: usize,
    /// The opening witness W; W' follows it.
    w: usize,
}

impl ProofLayout {
    fn new(vk: &VerifyingKey) -> Self {
        let layout = vk.layout();
        let num_commitments = Proof::num_commitments(layout);
        let evals = PROOF_MAGIC.len() + 64 * (num_commitments + layout.num_quotient_pieces());
        Self {
            len: Proof::encoded_len(layout),
            num_witness: layout.commitments_of(Round::Witness).count(),
            num_commitments,
            num_quotient: layout.num_quotient_pieces(),
            evals,
            num_evals: layout.openings.len(),
            w: evals + 32 * layout.openings.len(),
        }
    }

    /// The k-th point: the two rounds' commitments, then the quotient pieces.
    fn point(&self, k: usize) -> usize {
        PROOF_MAGIC.len() + 64 * k
    }

    fn quotient(&self, i: usize) -> usize {
        self.point(self.num_commitments + i)
    }

    fn eval(&self, o: usize) -> usize {
        self.evals + 32 * o
    }

    fn w_prime(&self) -> usize {
        self.w + 64
    }
}

/// Memory: the precompile buffers at fixed addresses, then the words and regions below.
///
/// 0x80..0xc0 holds the MSM accumulator and 0xc0..0x120 the input `(x, y, s)` of `ecMul`, whose
/// output lands on `(x, y)`, so `ecAdd` reads accumulator and product as one 128-byte input.
/// `modexp` uses 0x80..0x140 while no MSM is under way.
#[derive(Clone, Copy)]
struct Memory {
    theta: usize,
    beta: usize,
    gamma: usize,
    kappa: usize,
    y: usize,
    x: usize,
    v: usize,
    u: usize,
    zeta: usize,
    x_n: usize,
    l_first: usize,
    l_last: usize,
    l_active: usize,
    quotient: usize,
    eval_sum: usize,
    u_powers: usize,
    v_powers: usize,
    /// `zeta^t - omega^r x` for each factor `(t, r)` of `Generator::factors`.
    differences: usize,
    /// `u^s Z_{T\S_s}(zeta) / Z_{T\S_0}(zeta)` for each point set `s > 0`.
    set_scales: usize,
    /// `Z_T(zeta)`, then divided by `Z_{T\S_0}(zeta)`.
    h_factor: usize,
    instance_evals: usize,
    /// Denominators to invert, then their inverses; the last three are x, `Z_{T\S_0}(zeta)`
    /// and the vanishing polynomial at x.
    denominators: usize,
    num_denominators: usize,
    prefix: usize,
    pairing: usize,
    /// The transcript's first input: the key digest, then per instance column its length and
    /// its values. It ends where the proof's commitments begin: `proof + 4`.
    transcript: usize,
    /// A copy of the proof; the end of the transcript's first input overwrites its 4-byte
    /// magic once that is checked.
    proof: usize,
    /// Spilled subexpressions; last, as their number is known only after generation.
    scratch: usize,
}

impl Memory {
    fn inverse(&self, from_end: usize) -> usize {
        self.denominators + 32 * (self.num_denominators - from_end)
    }

    fn x_inverse(&self) -> usize {
        self.inverse(3)
    }

    fn normalizer_inverse(&self) -> usize {
        self.inverse(2)
    }

    fn vanishing_inverse(&self) -> usize {
        self.inverse(1)
    }
}

/// Names for the addresses of [`Memory`] and the proof's parts, declared as constants of the
/// contract so that its code says what it reads and writes.
///
/// Every address the code uses is a constant of its own: solc does not fold `add(NAME, 0x20)`
/// into one literal, and each such `ADD` would cost gas.
#[derive(Default)]
struct MemoryMap {
    /// By address; a word inside a region is named by the region and its index, `NAME_2`, in
    /// `derived` once the code uses it.
    names: BTreeMap<usize, String>,
    derived: RefCell<BTreeMap<usize, String>>,
    /// Names for the modexp input, which shares its memory with the MSM's.
    aliases: Vec<(usize, String)>,
    /// Comments before the names from these addresses on, and one for the next name.
    groups: BTreeMap<usize, String>,
    group: Option<String>,
}

impl MemoryMap {
    fn new(m: &Memory, p: &ProofLayout, layout: &Layout) -> Self {
        let mut map = Self::default();
        map.group("The precompiles' buffers: modexp's input while no MSM is under way; the MSM accumulator, and ecMul's input (x, y, s), whose output lands on (x, y).");
        map.aliases = ["MODEXP", "MODEXP_1", "MODEXP_2", "MODEXP_3", "MODEXP_4", "MODEXP_5"].iter().enumerate().map(|(i, name)| (0x80 + 32 * i, name.to_string())).collect();
        map.names([("MSM_ACC", 0x80), ("MSM_ACC_Y", 0xa0), ("MSM_POINT", 0xc0), ("MSM_POINT_Y", 0xe0), ("MSM_SCALAR", 0x100)]);
        map.group("Challenges and points from the transcript; x^n.");
        map.names([("THETA", m.theta), ("BETA", m.beta), ("GAMMA", m.gamma), ("KAPPA", m.kappa), ("Y", m.y), ("X", m.x), ("V", m.v), ("U", m.u), ("ZETA", m.zeta), ("X_N", m.x_n)]);
        map.group("L_0(x), L_{usable rows}(x), and 1 minus the latter and the blinding rows' L_i(x).");
        map.names([("L_FIRST", m.l_first), ("L_LAST", m.l_last), ("L_ACTIVE", m.l_active)]);
        map.group("The opening: the quotient at x, E, powers of u and v, zeta^t - omega^r x per factor of Z_T, the point sets' scales, Z_T(zeta) / Z_{T\\S_0}(zeta).");
        map.names([("QUOTIENT_EVAL", m.quotient), ("EVAL_SUM", m.eval_sum), ("U_POWERS", m.u_powers), ("V_POWERS", m.v_powers), ("DIFFERENCES", m.differences)]);
        map.names([("SET_SCALES", m.set_scales), ("H_FACTOR", m.h_factor)]);
        map.group("The instance columns at their rotations of x, from the public values.");
        for (k, &(c, r)) in layout.instance_queries.iter().enumerate() {
            map.name(format!("EVAL_INSTANCE{c}_ROT{}", rotation_name(r)), m.instance_evals + 32 * k);
        }
        map.group("Denominators, inverted in place; the last three are x, Z_{T\\S_0}(zeta) and x^n - 1. Then prefix products, the pairing's input, the transcript's first input.");
        map.names([("DENOMINATORS", m.denominators), ("X_INVERSE", m.x_inverse()), ("NORMALIZER_INVERSE", m.normalizer_inverse()), ("VANISHING_INVERSE", m.vanishing_inverse())]);
        map.names([("PREFIX", m.prefix), ("PAIRING", m.pairing), ("TRANSCRIPT", m.transcript)]);
        map.group("A copy of the proof: its magic, its commitments (the two rounds', then the quotient's pieces), the evaluations, W and W'.");
        map.name("PROOF", m.proof);
        let point = |map: &mut Self, name: String, at: usize| map.names([(name.clone(), m.proof + at), (format!("{name}_Y"), m.proof + at + 32)]);
        (0..p.num_commitments).for_each(|k| point(&mut map, format!("COMMITMENT{k}"), p.point(k)));
        (0..p.num_quotient).for_each(|i| point(&mut map, format!("QUOTIENT{i}"), p.quotient(i)));
        for (o, opening) in layout.openings.iter().enumerate() {
            let poly = match opening.poly {
                Poly::Advice(i) => format!("ADVICE{i}"),
                Poly::Fixed(i) => format!("FIXED{i}"),
                Poly::Sigma(i) => format!("SIGMA{i}"),
                Poly::PermutationProduct(j) => format!("PRODUCT{j}"),
                Poly::Multiplicity(l) => format!("MULTIPLICITY{l}"),
                Poly::RunningSum(l) => format!("RUNNING_SUM{l}"),
            };
            map.name(format!("EVAL_{poly}_ROT{}", rotation_name(opening.rotation)), m.proof + p.eval(o));
        }
        point(&mut map, "OPENING_W".into(), p.w);
        point(&mut map, "OPENING_W_PRIME".into(), p.w_prime());
        map.group("Spilled subexpressions, and values of the identities that no local holds.");
        map.name("SCRATCH", m.scratch);
        map
    }

    fn group(&mut self, comment: &str) {
        self.group = Some(comment.into());
    }

    fn name(&mut self, name: impl Into<String>, address: usize) {
        if let Some(comment) = self.group.take() {
            self.groups.insert(address, comment);
        }
        self.names.insert(address, name.into());
    }

    fn names<S: Into<String>>(&mut self, names: impl IntoIterator<Item = (S, usize)>) {
        names.into_iter().for_each(|(name, address)| self.name(name, address));
    }

    /// An address as a name.
    fn at(&self, address: usize) -> String {
        if let Some(name) = self.names.get(&address).or(self.derived.borrow().get(&address)) {
            return name.clone();
        }
        let (base, region) = self.names.range(..address).next_back().expect("the map starts at the precompiles' buffers");
        assert_eq!((address - base) % 32, 0, "{address:#x} is not a word of {region}");
        let name = format!("{region}_{}", (address - base) / 32);
        self.derived.borrow_mut().insert(address, name.clone());
        name
    }

    fn load(&self, address: usize) -> String {
        format!("mload({})", self.at(address))
    }

    /// The constants' declarations, by address.
    fn declarations(&self) -> String {
        let derived = self.derived.borrow();
        let mut all: Vec<(usize, &String)> = self.aliases.iter().map(|(a, name)| (*a, name)).chain(self.names.iter().chain(derived.iter()).map(|(a, name)| (*a, name))).collect();
        all.sort_by_key(|&(a, _)| a);
        let mut out = String::new();
        for (i, &(address, name)) in all.iter().enumerate() {
            if let Some(comment) = self.groups.get(&address).filter(|_| i == 0 || all[i - 1].0 != address) {
                out += &format!("    // {comment}\n");
            }
            out += &format!("    uint256 internal constant {name} = {};\n", hex(address));
        }
        out
    }
}

/// A rotation as part of a name: `1`, `MINUS1`.
fn rotation_name(rotation: i32) -> String {
    if rotation < 0 {
        format!("MINUS{}", -rotation)
    } else {
        rotation.to_string()
    }
}

/// The values the identities read, loaded from the contract's memory.
struct Reads<'a> {
    layout: &'a Layout,
    proof: ProofLayout,
    mem: Memory,
    map: &'a MemoryMap,
    recorder: Recorder,
}

impl Reads<'_> {
    fn word(&self, address: usize) -> Traced {
        self.recorder.leaf(Expr::load(self.map.at(address)))
    }

    fn eval(&self, poly: Poly, rotation: i32) -> Traced {
        self.word(self.mem.proof + self.proof.eval(self.layout.opening_index(poly, rotation)))
    }
}

impl PointValues<Traced> for Reads<'_> {
    fn x(&self) -> Traced {
        self.word(self.mem.x)
    }
    fn cell(&self, q: Query) -> Traced {
        let (c, r) = (q.column.index, q.rotation);
        match q.column.kind {
            ColumnKind::Advice => self.eval(Poly::Advice(c), r),
            ColumnKind::Fixed => self.eval(Poly::Fixed(c), r),
            ColumnKind::Instance => {
                let k = self.layout.instance_queries.iter().position(|&k| k == (c, r)).expect("instance queries are listed");
                self.word(self.mem.instance_evals + 32 * k)
            }
        }
    }
    fn sigma(&self, i: usize) -> Traced {
        self.eval(Poly::Sigma(i), 0)
    }
    fn product(&self, j: usize, rotation: i32) -> Traced {
        self.eval(Poly::PermutationProduct(j), rotation)
    }
    fn multiplicity(&self, l: usize) -> Traced {
        self.eval(Poly::Multiplicity(l), 0)
    }
    fn running_sum(&self, l: usize, rotation: i32) -> Traced {
        self.eval(Poly::RunningSum(l), rotation)
    }
    fn l_first(&self) -> Traced {
        self.word(self.mem.l_first)
    }
    fn l_last(&self) -> Traced {
        self.word(self.mem.l_last)
    }
    fn l_active(&self) -> Traced {
        self.word(self.mem.l_active)
    }
    fn begin(&self, part: Part) {
        self.recorder.begin(part)
    }
}

/// Indented lines of Yul.
struct Code {
    lines: Vec<String>,
    indent: usize,
}

impl Code {
    fn line(&mut self, s: impl AsRef<str>) {
        for l in s.as_ref().lines() {
            self.lines.push(format!("{}{l}", "    ".repeat(self.indent)));
        }
    }

    /// A block of its own, so its locals leave the stack at its end.
    fn block(&mut self, body: impl FnOnce(&mut Code)) {
        self.line("{");
        self.indent += 1;
        body(self);
        self.indent -= 1;
        self.line("}");
    }
}

struct Generator<'a> {
    vk: &'a VerifyingKey,
    layout: &'a Layout,
    lengths: &'a [usize],
    proof: ProofLayout,
    mem: Memory,
    map: Rc<MemoryMap>,
    /// For each instance query of the layout, the index of its first denominator.
    instance_denominators: Vec<usize>,
    /// The distinct factors `X^t - omega^r x` of the point sets' vanishing polynomials, as
    /// `(t, index of r in the layout's rotations)`.
    factors: Vec<(usize, usize)>,
    code: Code,
    ec_mul: usize,
    ec_add: usize,
}

impl<'a> Generator<'a> {
    fn new(vk: &'a VerifyingKey) -> Self {
        let layout = vk.layout();
        let lengths = &vk.statement().counts;
        let proof = ProofLayout::new(vk);
        let mut next = 0x140;
        let mut alloc = |words: usize| {
            let at = next;
            next += 32 * words;
            at
        };
        let [theta, beta, gamma, kappa, y, x, v, u, zeta, x_n] = [(); 10].map(|_| alloc(1));
        let [l_first, l_last, l_active, quotient, eval_sum] = [(); 5].map(|_| alloc(1));
        let mut factors: Vec<(usize, usize)> = layout.point_sets.iter().flat_map(|s| s.rotations.iter().map(|&r| (s.t, layout.rotation_index(r)))).collect();
        factors.sort();
        factors.dedup();
        let u_powers = alloc(layout.point_sets.len());
        let v_powers = alloc(num_v_powers(layout));
        let differences = alloc(factors.len());
        let set_scales = alloc(layout.point_sets.len());
        let h_factor = alloc(1);
        let instance_evals = alloc(layout.instance_queries.len());
        // x - 1 for row 0; x - omega^i for the last-row marker and the blinding rows; one per
        // public value and instance query; x, Z_{T\S_0}(zeta), the vanishing polynomial.
        let mut num_denominators = 1 + (layout.n - layout.usable_rows);
        let mut instance_denominators = Vec::new();
        for &(c, _) in &layout.instance_queries {
            instance_denominators.push(num_denominators);
            num_denominators += lengths[c];
        }
        num_denominators += 3;
        let denominators = alloc(num_denominators);
        let prefix = alloc(num_denominators);
        let pairing = alloc(12);
        let transcript = alloc(1 + lengths.len() + lengths.iter().sum::<usize>());
        let proof_at = next - PROOF_MAGIC.len();
        let scratch = (proof_at + proof.len).div_ceil(32) * 32;
        let mem = Memory {
            theta,
            beta,
            gamma,
            kappa,
            y,
            x,
            v,
            u,
            zeta,
            x_n,
            l_first,
            l_last,
            l_active,
            quotient,
            eval_sum,
            u_powers,
            v_powers,
            differences,
            set_scales,
            h_factor,
            instance_evals,
            denominators,
            num_denominators,
            prefix,
            pairing,
            transcript,
            proof: proof_at,
            scratch,
        };
        let map = Rc::new(MemoryMap::new(&mem, &proof, layout));
        let code = Code { lines: Vec::new(), indent: 3 };
        Self { vk, layout, lengths, proof, mem, map, instance_denominators, factors, code, ec_mul: 0, ec_add: 0 }
    }

    fn contract(mut self, name: &str) -> String {
        self.checks();
        self.transcript();
        self.lagrange();
        self.constraints();
        self.opening();
        let body = self.code.lines.join("\n");
        format!("{}{body}\n        }}\n    }}\n}}\n", self.header(name))
    }

    fn header(&self, name: &str) -> String {
        let d = self.vk.description();
        let functions: String = HELPERS.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("            {l}\n") }).collect();
        let srs_id = self.vk.srs_id();
        let srs = match crate::srs::ceremony(&srs_id) {
            Some(c) => format!("/// @custom:srs key from ceremony {} (SRS_ID, Keccak-256 of its [tau]_2).\n", c.name),
            None => "/// @custom:srs unknown or development SRS: no public ceremony has this key's [tau]_2\n\
                     /// (SRS_ID). Whoever made the SRS may know its secret and forge proofs; trust proofs\n\
                     /// only if you trust the SRS.\n"
                .into(),
        };
        let tensors: String = self
            .vk
            .statement()
            .tensors
            .iter()
            // Debug-quoted: a name from the key cannot end the comment line and write code.
            .map(|t| format!("/// - {} {:?} {:?}, fixed point at scale 2^-{}\n", t.kind.name(), t.name, t.shape, t.scale_bits))
            .collect();
        let statement = if tensors.is_empty() { String::new() } else { format!("/// The public values of column 0, in order (a value v above R/2 stands for v - R):\n{tensors}") };
        let digest: String = self.vk.digest().iter().map(|b| format!("{b:02x}")).collect();
        let srs_hex: String = srs_id.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "// SPDX-License-Identifier: MIT OR Apache-2.0\n\
             // Generated by zkinfer from a verifying key; regenerate it rather than edit it.\n\
             pragma solidity ^0.8.20;\n\
             \n\
             /// @title zkinfer verifier for one circuit (PLONKish, KZG on BN254, Keccak transcript)\n\
             /// @notice 2^{k} rows; {adv} advice, {fix} fixed and {inst} instance columns; {lookups} lookups.\n\
             /// `instances` holds the instance columns concatenated, with exactly {lengths:?} values each.\n\
             {statement}\
             /// `verifyProof` returns false for every proof the zkinfer verifier rejects (including\n\
             /// malformed proofs and non-canonical encodings), true for every proof it accepts. It\n\
             /// reverts on calldata that is not ABI-encoded and when it runs out of gas, never answering\n\
             /// false for want of gas. One verification makes {muls} ecMul, {adds} ecAdd, one 2-pair\n\
             /// pairing and one modexp call.\n\
             {srs}\
             contract {name} {{\n\
             \x20   /// Keccak-256 of the verifying key's bytes; the transcript starts from it.\n\
             \x20   bytes32 public constant VK_DIGEST = 0x{digest};\n\
             \x20   /// Keccak-256 of the SRS's [tau]_2 (x.c1, x.c0, y.c1, y.c0): which powers of tau the key uses.\n\
             \x20   bytes32 public constant SRS_ID = 0x{srs_hex};\n\
             \x20   uint256 internal constant R = {r};\n\
             \x20   uint256 internal constant Q = {q};\n\
             \n\
             \x20   // The memory map (byte addresses).\n\
             {memory}\
             \n\
             \x20   function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool) {{\n\
             \x20       assembly {{\n\
             {functions}",
            k = d.k,
            adv = d.num_advice,
            fix = d.num_fixed,
            inst = d.num_instance,
            lookups = d.lookups.len(),
            lengths = self.lengths,
            muls = self.ec_mul,
            adds = self.ec_add,
            r = modulus_hex::<Fr>(),
            q = modulus_hex::<Fq>(),
            functions = functions,
            memory = self.map.declarations(),
        )
    }

    /// The proof's commitments opened nowhere (advice columns no constraint reads), by index.
    fn unopened(&self) -> Vec<usize> {
        self.layout.commitments.iter().filter(|c| c.round != Round::Key).enumerate().filter(|(_, c)| c.set.is_none()).map(|(i, _)| i).collect()
    }

    /// The factors of `Z_T` outside the point set `s`, as Yul words.
    fn outside(&self, s: usize) -> Vec<String> {
        let set = &self.layout.point_sets[s];
        let (m, map) = (self.mem, &self.map);
        self.factors
            .iter()
            .enumerate()
            .filter(|(_, &(t, j))| !(t == set.t && set.rotations.contains(&self.layout.rotations[j])))
            .map(|(f, _)| format!("mload({})", map.at(m.differences + 32 * f)))
            .collect()
    }

    /// Lengths, magic, canonical scalars, and the points that no precompile will see.
    fn checks(&mut self) {
        let (m, p, map) = (self.mem, self.proof, self.map.clone());
        let num_values: usize = self.lengths.iter().sum();
        let c = &mut self.code;
        c.line("let r := R");
        c.line(format!("if iszero(and(eq(proof.length, {}), eq(instances.length, {num_values}))) {{ reject() }}", p.len));
        c.line(format!("calldatacopy({}, proof.offset, {})", map.at(m.proof), p.len));
        c.line(format!("if iszero(eq(shr(224, mload({})), {})) {{ reject() }}", map.at(m.proof), word_hex(PROOF_MAGIC)));
        c.line("// The transcript's first input; it ends where the proof's commitments start.");
        c.line(format!("mstore({}, {})", map.at(m.transcript), word_hex(self.vk.digest())));
        let mut at = m.transcript + 32;
        let mut first = 0;
        for &n in self.lengths {
            c.line(format!("mstore({}, {n})", map.at(at)));
            if n > 0 {
                c.line(format!("calldatacopy({}, add(instances.offset, {}), {})", map.at(at + 32), hex(32 * first), hex(32 * n)));
            }
            at += 32 * (n + 1);
            first += n;
        }
        let evals = m.proof + p.evals;
        c.block(|c| {
            // A loop for the public inputs, whose number the model sets; the evaluations are
            // unrolled, a third of the gas of a loop.
            c.line("// Public inputs and evaluations must be canonical scalars.");
            c.line(format!("let ok := 1\nfor {{ let a := {} }} lt(a, {}) {{ a := add(a, 0x20) }} {{ ok := and(ok, lt(mload(a), r)) }}", map.at(m.transcript + 32), map.at(at)));
            (0..p.num_evals).for_each(|o| c.line(format!("ok := and(ok, lt(mload({}), r))", map.at(evals + 32 * o))));
            c.line("if iszero(ok) { reject() }");
        });
        // Every other point goes through ecMul, whose failure is checked (`mulFailed`).
        for i in self.unopened() {
            self.code.line(format!("requireOnCurve({})", map.at(m.proof + p.point(i))));
        }
    }

    fn transcript(&mut self) {
        let (m, p, map) = (self.mem, self.proof, self.map.clone());
        let products_start = p.point(p.num_witness);
        let quotient_start = p.quotient(0);
        // Each proof segment is absorbed, then the challenges listed are squeezed in a row.
        let segments: [(usize, usize, &[usize]); 4] =
            [(products_start, quotient_start, &[m.y]), (quotient_start, p.evals, &[m.x]), (p.evals, p.w, &[m.v, m.u]), (p.w, p.w_prime(), &[m.zeta])];
        self.code.block(|c| {
            c.line(format!("let d := keccak256({}, {})", map.at(m.transcript), hex(m.proof + products_start - m.transcript)));
            let squeeze = |c: &mut Code, slot: usize| c.line(format!("mstore(0, d)\nd := keccak256(0, 0x20)\nmstore({}, mod(d, r))", map.at(slot)));
            c.line(format!("mstore({}, mod(d, r))", map.at(m.theta)));
            for slot in [m.beta, m.gamma, m.kappa] {
                squeeze(c, slot);
            }
            for (from, to, slots) in segments {
                c.line(format!("d := absorb(d, {}, {})\nmstore({}, mod(d, r))", map.at(m.proof + from), hex(to - from), map.at(slots[0])));
                slots[1..].iter().for_each(|&slot| squeeze(c, slot));
            }
        });
    }

    /// x^n; the Lagrange values the identities use; the public inputs' evaluations; the
    /// inverse of the vanishing polynomial. One field inversion serves all denominators.
    fn lagrange(&mut self) {
        let (m, map) = (self.mem, self.map.clone());
        let layout = self.layout;
        let factors = self.factors.clone();
        let first_outside = self.outside(0);
        let omega = fr_hex(&layout.omega);
        let (den, count) = (m.denominators, m.num_denominators);
        // omega^i for the last-row marker and the blinding rows.
        let tail: Vec<Fr> = (layout.usable_rows..layout.n).map(|i| layout.omega.pow([i as u64])).collect();
        let n_inv = fr_hex(&Fr::from(layout.n as u64).inverse().unwrap());
        let mut column_values = Vec::new();
        let mut at = m.transcript + 64;
        for &n in self.lengths {
            column_values.push(at);
            at += 32 * (n + 1);
        }
        let instances: Vec<(usize, i32, usize, usize)> =
            layout.instance_queries.iter().enumerate().map(|(k, &(c, rotation))| (c, rotation, self.lengths[c], den + 32 * self.instance_denominators[k])).collect();
        self.code.block(|c| {
            c.line(format!("let x := mload({})", map.at(m.x)));
            c.line("let xn := x");
            (0..layout.k).for_each(|_| c.line("xn := mulmod(xn, xn, r)"));
            c.line(format!("mstore({}, xn)", map.at(m.x_n)));
            c.line("let vanishing := addmod(xn, sub(r, 1), r)");
            c.line(format!("mstore({}, addmod(x, sub(r, 1), r))", map.at(den)));
            c.line("// The last-row marker and the blinding rows, unrolled: their number is the circuit's.");
            for (i, w) in tail.iter().enumerate() {
                c.line(format!("mstore({}, addmod(x, {}, r))", hex(den + 32 * (1 + i)), fr_hex(&-*w)));
            }
            for &(column, rotation, n, at) in instances.iter().filter(|i| i.2 > 0) {
                let z = if rotation == 0 { "x".to_string() } else { format!("mulmod(x, {}, r)", fr_hex(&layout.rotate(rotation))) };
                c.line(format!("// Instance column {column} at rotation {rotation}."));
                c.line(format!(
                    "{{\n    let z := {z}\n    let w := 1\n    for {{ let a := {} }} lt(a, {}) {{ a := add(a, 0x20) }} {{\n        mstore(a, addmod(z, sub(r, w), r))\n        w := mulmod(w, {omega}, r)\n    }}\n}}",
                    map.at(at),
                    map.at(at + 32 * n),
                ));
            }
            c.block(|c| {
                c.line("// The opening: zeta^t minus each point, Z_T(zeta) and the normalizer Z_{T\\S_0}(zeta).");
                c.line(format!("let zeta := mload({})", map.at(m.zeta)));
                let mut power = 1;
                for (f, &(t, j)) in factors.iter().enumerate() {
                    // Factors are sorted by t, a power of two: square up to it.
                    while power < t {
                        c.line("zeta := mulmod(zeta, zeta, r)");
                        power *= 2;
                    }
                    let rotation = layout.rotations[j];
                    let point = if rotation == 0 { "x".to_string() } else { format!("mulmod(x, {}, r)", fr_hex(&layout.rotate(rotation))) };
                    c.line(format!("mstore({}, addmod(zeta, sub(r, {point}), r))", map.at(m.differences + 32 * f)));
                }
                let difference = |f: usize| format!("mload({})", map.at(m.differences + 32 * f));
                c.line(product_into("zt", (0..factors.len()).map(difference).collect()));
                c.line(format!("mstore({}, zt)", map.at(m.h_factor)));
                c.line(format!("mstore({}, x)", map.at(m.x_inverse())));
                c.block(|c| {
                    c.line(product_into("p", first_outside));
                    c.line(format!("mstore({}, p)", map.at(m.normalizer_inverse())));
                });
                c.line("// x^n = 1 or x = 0 or zeta on an opening point: the denominators are not all invertible.");
                c.line("if iszero(mulmod(mulmod(vanishing, x, r), zt, r)) { reject() }");
            });
            c.line(format!("mstore({}, vanishing)", map.at(m.vanishing_inverse())));
            c.line(format!(
                "{{\n    // Montgomery's batch inversion: prefix products, one inversion, a backward pass.\n    let p := 1\n    for {{ let a := {den} }} lt(a, {end}) {{ a := add(a, 0x20) }} {{\n        mstore(add(a, {shift}), p)\n        p := mulmod(p, mload(a), r)\n    }}\n    p := invert(p)\n    for {{ let a := {end} }} gt(a, {den}) {{}} {{\n        a := sub(a, 0x20)\n        let d := mload(a)\n        mstore(a, mulmod(p, mload(add(a, {shift})), r))\n        p := mulmod(p, d, r)\n    }}\n}}",
                end = map.at(den + 32 * count),
                shift = hex(m.prefix - den),
                den = map.at(den)
            ));
            c.line("// L_i(z) = omega^i (x^n - 1) / (n (z - omega^i))");
            c.line(format!("let scale := mulmod(vanishing, {n_inv}, r)"));
            c.line(format!("mstore({}, mulmod(scale, mload({}), r))", map.at(m.l_first), map.at(den)));
            c.block(|c| {
                let term = |i: usize| format!("mulmod({}, mload({}), r)", fr_hex(&tail[i]), hex(den + 32 * (1 + i)));
                c.line(format!("let s := {}\nmstore({}, mulmod(scale, s, r))", term(0), map.at(m.l_last)));
                c.line("// 1 - the Lagrange values of the last-row marker and the blinding rows");
                (1..tail.len()).for_each(|i| c.line(format!("s := addmod(s, {}, r)", term(i))));
                c.line(format!("mstore({}, addmod(1, sub(r, mulmod(scale, s, r)), r))", map.at(m.l_active)));
            });
            for (k, &(column, _, n, at)) in instances.iter().enumerate() {
                let slot = m.instance_evals + 32 * k;
                if n == 0 {
                    c.line(format!("mstore({}, 0)", map.at(slot)));
                    continue;
                }
                c.line(format!(
                    "{{\n    let w := 1\n    let s := 0\n    for {{ let i := 0 }} lt(i, {}) {{ i := add(i, 0x20) }} {{\n        s := addmod(s, mulmod(mload(add({}, i)), mulmod(w, mload(add({}, i)), r), r), r)\n        w := mulmod(w, {omega}, r)\n    }}\n    mstore({}, mulmod(scale, s, r))\n}}",
                    hex(32 * n),
                    map.at(column_values[column]),
                    map.at(at),
                    map.at(slot)
                ));
            }
        });
    }

    /// Every identity at x, combined with powers of y, divided by the vanishing polynomial:
    /// `Constraints::combine` over values that record Yul.
    fn constraints(&mut self) {
        let m = self.mem;
        let reads = Reads { layout: self.layout, proof: self.proof, mem: m, map: &self.map, recorder: Recorder::default() };
        let word = |address: usize| reads.word(address);
        let y = reads.recorder.leaf(Expr::raw("y"));
        let challenges = Challenges { theta: word(m.theta), beta: word(m.beta), gamma: word(m.gamma), kappa: word(m.kappa), y };
        let combined = Constraints::new(self.vk.description(), self.layout, challenges).combine(&reads);
        let mut lines = vec![format!("let y := {}", self.map.load(m.y))];
        let quotient = reads.recorder.write(&combined, &|word| self.map.at(m.scratch + 32 * word), &mut lines);
        lines.push(format!("mstore({}, mulmod({}, {}, r))", self.map.at(m.quotient), quotient.code, self.map.load(m.vanishing_inverse())));
        self.code.block(|c| lines.iter().for_each(|l| c.line(l)));
    }

    /// Loads a commitment into the ecMul input.
    fn load(&mut self, point: Point) {
        let map = self.map.clone();
        let (x, y) = match point {
            Point::Proof(offset) => {
                let at = self.mem.proof + offset;
                (format!("mload({})", map.at(at)), format!("mload({})", map.at(at + 32)))
            }
            Point::Key(p) => {
                let bytes = g1_to_bytes(&p);
                (word_hex(&bytes[..32]), word_hex(&bytes[32..]))
            }
        };
        self.code.line(format!("mstore(MSM_POINT, {x})\nmstore(MSM_POINT_Y, {y})"));
    }

    /// Adds `scalar` (None: one) times `point` to the accumulator, or sets it when `first`.
    fn term(&mut self, point: Point, scalar: Option<String>, first: bool) {
        self.load(point);
        // A proof's point that no ecMul takes: checked here, so that only a lack of gas can make
        // a later ecAdd fail.
        if scalar.is_none() && matches!(point, Point::Proof(_)) {
            self.code.line("requireOnCurve(MSM_POINT)");
        }
        let line = match (scalar, first) {
            (Some(s), true) => {
                self.ec_mul += 1;
                format!("mulSet({s})")
            }
            (Some(s), false) => {
                self.ec_mul += 1;
                self.ec_add += 1;
                format!("mulAcc({s})")
            }
            (None, true) => "mstore(MSM_ACC, mload(MSM_POINT))\nmstore(MSM_ACC_Y, mload(MSM_POINT_Y))".into(),
            (None, false) => {
                self.ec_add += 1;
                "if iszero(staticcall(gas(), 0x06, MSM_ACC, 0x80, MSM_ACC, 0x40)) { fail() }".into()
            }
        };
        self.code.line(line);
    }

    /// The multi-point opening (`crate::opening`): with `scale_s = u^s Z_{T\S_s}(zeta) /
    /// Z_{T\S_0}(zeta)` for point set `s`,
    /// e(W', [tau]_2) = e(sum_s scale_s sum_t v^t C_st - E G - Z_T(zeta)/Z_{T\S_0}(zeta) W + zeta W', [1]_2)
    /// where E is the sum over the sets of `scale_s` times the value at zeta of the polynomial
    /// interpolating the set's combined evaluations.
    fn opening(&mut self) {
        let (m, p, layout, map) = (self.mem, self.proof, self.layout, self.map.clone());
        let sets = &layout.point_sets;
        let keys = self.vk.key_commitments().len();
        let outsides: Vec<Vec<String>> = (0..sets.len()).map(|s| self.outside(s)).collect();
        let factors = self.factors.clone();
        let factor = |t: usize, rotation: i32| {
            let j = layout.rotation_index(rotation);
            factors.iter().position(|&f| f == (t, j)).expect("every set's factors are listed")
        };
        let upow = |s: usize| format!("mload({})", map.at(m.u_powers + 32 * s));
        let vpow = |t: usize| format!("mload({})", map.at(m.v_powers + 32 * t));
        let scale = |s: usize| (s > 0).then(|| format!("mload({})", map.at(m.set_scales + 32 * s)));
        let difference = |f: usize| format!("mload({})", map.at(m.differences + 32 * f));
        let eval = |o: usize| format!("mload({})", map.at(m.proof + p.eval(o)));
        // Unrolled: a loop costs more than twice as much per power.
        let powers = |c: &mut Code, of: usize, at: usize, count: usize| {
            c.block(|c| {
                c.line(format!("let b := mload({})\nlet p := b\nmstore({}, 1)", map.at(of), map.at(at)));
                for i in 1..count {
                    if i > 1 {
                        c.line("p := mulmod(p, b, r)");
                    }
                    c.line(format!("mstore({}, p)", map.at(at + 32 * i)));
                }
            })
        };
        powers(&mut self.code, m.u, m.u_powers, sets.len());
        powers(&mut self.code, m.v, m.v_powers, num_v_powers(layout));
        self.code.block(|c| {
            c.line(format!("// scale_s, and Z_T(zeta) / Z_{{T\\S_0}}(zeta)\nlet ni := mload({})", map.at(m.normalizer_inverse())));
            for (s, outside) in outsides.iter().enumerate().skip(1) {
                c.block(|c| {
                    c.line(product_into("p", outside.clone()));
                    c.line(format!("mstore({}, mulmod({}, mulmod(p, ni, r), r))", map.at(m.set_scales + 32 * s), upow(s)));
                });
            }
            c.line(format!("mstore({}, mulmod(mload({}), ni, r))", map.at(m.h_factor), map.at(m.h_factor)));
        });
        self.code.block(|c| {
            c.line("// E = sum_s scale_s r_s(zeta), r_s the remainder of the set's combined polynomial:");
            c.line("// at each point, sum_i zeta^i f_i(p) per commitment, combined with powers of v, then");
            c.line("// interpolated in zeta^t");
            c.line(format!("let v := mload({})\nlet es := 0\nlet xi := mload({})", map.at(m.v), map.at(m.x_inverse())));
            let zeta = format!("mload({})", map.at(m.zeta));
            for (s, set) in sets.iter().enumerate() {
                c.block(|c| {
                    c.line("let vs := 0");
                    for &rotation in &set.rotations {
                        // Horner's rule in v over the commitments from the last, the quotient
                        // last of all; for a packed commitment, in zeta over its polynomials,
                        // one statement a step, as nested expressions would run out of stack.
                        let remainder = |c: usize| -> (Vec<String>, String) {
                            let mut members = layout.commitments[c].polys.iter().rev().map(|&poly| eval(layout.opening_index(poly, rotation)));
                            let last = members.next().expect("no empty commitment");
                            let steps: Vec<String> = members.map(|f| format!("f := addmod(mulmod(f, {zeta}, r), {f}, r)")).collect();
                            if steps.is_empty() {
                                (vec![], last)
                            } else {
                                (std::iter::once(format!("let f := {last}")).chain(steps).collect(), "f".into())
                            }
                        };
                        let mut terms: Vec<(Vec<String>, String)> = set.commitments.iter().rev().map(|&c| remainder(c)).collect();
                        if s == layout.quotient_set {
                            terms.insert(0, (vec![], format!("mload({})", map.at(m.quotient))));
                        }
                        // The Lagrange basis of the set at zeta without its factor x^-(|S| - 1):
                        // c_p prod_{q != p} (zeta - omega^q x), c_p = 1 / prod_{q != p} (omega^p - omega^q).
                        let others: Vec<i32> = set.rotations.iter().copied().filter(|&q| q != rotation).collect();
                        let c_p = others.iter().map(|&q| layout.rotate(rotation) - layout.rotate(q)).product::<Fr>().inverse().expect("distinct rotations");
                        let mut weight: Vec<String> = others.iter().map(|&q| difference(factor(set.t, q))).collect();
                        if c_p != Fr::from(1u64) {
                            weight.push(fr_hex(&c_p));
                        }
                        c.block(|c| {
                            c.line("let e := 0");
                            for (i, (steps, value)) in terms.into_iter().enumerate() {
                                let add = if i == 0 { format!("e := {value}") } else { format!("e := addmod(mulmod(e, v, r), {value}, r)") };
                                if steps.is_empty() {
                                    c.line(add);
                                } else {
                                    c.block(|c| {
                                        steps.iter().for_each(|l| c.line(l));
                                        c.line(add);
                                    });
                                }
                            }
                            c.line(if weight.is_empty() {
                                "vs := addmod(vs, e, r)".to_string()
                            } else {
                                format!("vs := addmod(vs, mulmod(e, {}, r), r)", product(weight.into_iter()))
                            });
                        });
                    }
                    (1..set.rotations.len()).for_each(|_| c.line("vs := mulmod(vs, xi, r)"));
                    c.line(match scale(s) {
                        None => "es := addmod(es, vs, r)".to_string(),
                        Some(scale) => format!("es := addmod(es, mulmod(vs, {scale}, r), r)"),
                    });
                });
            }
            c.line(format!("mstore({}, es)", map.at(m.eval_sum)));
        });

        self.code.line("// [L] + zeta W', one ecMul per committed polynomial");
        // One scalar per distinct commitment: key commitments that are equal (selectors enabled
        // on the same rows) cost one ecMul. The identity costs nothing.
        let mut terms: Vec<(Point, Vec<(usize, usize)>)> = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            for (t, &c) in set.commitments.iter().enumerate() {
                let point = if c < keys { Point::Key(self.vk.key_commitments()[c]) } else { Point::Proof(p.point(c - keys)) };
                if matches!(point, Point::Key(k) if k.is_zero()) {
                    continue;
                }
                match terms.iter_mut().find(|(q, _)| *q == point) {
                    Some((_, uses)) => uses.push((s, t)),
                    None => terms.push((point, vec![(s, t)])),
                }
            }
        }
        let scalar = |s: usize, t: usize| match (scale(s), t) {
            (None, 0) => "1".to_string(),
            (None, t) => vpow(t),
            (Some(scale), 0) => scale,
            (Some(scale), t) => format!("mulmod({scale}, {}, r)", vpow(t)),
        };
        let mut first = true;
        for (point, uses) in terms {
            let scalar = (uses != [(0, 0)]).then(|| uses.iter().map(|&(s, t)| scalar(s, t)).reduce(|a, b| format!("addmod({a}, {b}, r)")).expect("every polynomial is opened"));
            self.term(point, scalar, first);
            first = false;
        }
        let qs = layout.quotient_set;
        self.code.line(format!("// quotient pieces: scale v^t x^(span n i) H_i\nlet s := {}", scalar(qs, sets[qs].commitments.len())));
        if p.num_quotient > 1 {
            self.code.line(format!("let xs := mload({})", map.at(m.x_n)));
            (0..layout.quotient_span.trailing_zeros()).for_each(|_| self.code.line("xs := mulmod(xs, xs, r)"));
        }
        for i in 0..p.num_quotient {
            if i > 0 {
                self.code.line("s := mulmod(s, xs, r)");
            }
            self.term(Point::Proof(p.quotient(i)), Some("s".into()), first);
            first = false;
        }
        self.term(Point::Proof(p.w), Some(format!("sub(r, mload({}))", map.at(m.h_factor))), false);
        self.term(Point::Proof(p.w_prime()), Some(format!("mload({})", map.at(m.zeta))), false);
        self.term(Point::Key(G1Affine::generator()), Some(format!("sub(r, mload({}))", map.at(m.eval_sum))), false);
        let pair = |at: usize, x: String, y: String, g2: &[u8]| {
            let mut s = format!("mstore({}, {x})\nmstore({}, {y})", map.at(at), map.at(at + 32));
            for (w, chunk) in g2.chunks(32).enumerate() {
                s += &format!("\nmstore({}, {})", map.at(at + 64 + 32 * w), word_hex(chunk));
            }
            s
        };
        let w_prime = m.proof + p.w_prime();
        self.code.line(pair(m.pairing, format!("mload({})", map.at(w_prime)), format!("mload({})", map.at(w_prime + 32)), &g2_to_bytes(&self.vk.s_g2())));
        self.code.line(pair(m.pairing + 0xc0, "mload(MSM_ACC)".into(), "mload(MSM_ACC_Y)".into(), &g2_to_bytes(&-self.vk.g2())));
        self.code.line("// e(W', [tau]_2) e([L] + zeta W', -[1]_2) = 1");
        self.code.line(format!("if iszero(staticcall(gas(), 0x08, {}, 0x180, 0, 0x20)) {{ fail() }}\nreturn(0, 0x20)", map.at(m.pairing)));
    }
}

/// The product of Yul words, as one expression.
/// `let var := ` the product of Yul words, one multiplication a statement: a nested expression
/// takes two stack slots a factor.
fn product_into(var: &str, factors: Vec<String>) -> String {
    let mut lines = vec![format!("let {var} := {}", factors.first().map_or("1", String::as_str))];
    lines.extend(factors.iter().skip(1).map(|f| format!("{var} := mulmod({var}, {f}, r)")));
    lines.join("\n")
}

fn product(mut factors: impl Iterator<Item = String>) -> String {
    let first = factors.next().unwrap_or_else(|| "1".into());
    factors.fold(first, |acc, f| format!("mulmod({acc}, {f}, r)"))
}

/// Powers of v the openings use: up to the largest set, counting the quotient.
fn num_v_powers(layout: &Layout) -> usize {
    layout.point_sets.iter().enumerate().map(|(s, set)| set.commitments.len() + (s == layout.quotient_set) as usize).max().unwrap_or(1)
}

fn modulus_hex<F: PrimeField>() -> String {
    word_hex(&F::MODULUS.to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_is_the_abi_encoding_of_verify_proof() {
        let data = calldata(&[0xaa; 33], &[vec![Fr::from(7u64)], vec![Fr::from(8u64), -Fr::from(1u64)]]);
        let word = |i: usize| &data[4 + 32 * i..4 + 32 * (i + 1)];
        // The selector solc reports for verifyProof(bytes,uint256[]).
        assert_eq!(data[..4], [0x1e, 0x8e, 0x1e, 0x13]);
        assert_eq!(word(0)[31], 0x40, "offset of the proof");
        assert_eq!(word(1)[31], 0x40 + 32 + 64, "offset of the instances");
        assert_eq!(word(2)[31], 33, "proof length");
        assert_eq!(word(3), [0xaa; 32]);
        assert_eq!(word(4)[..2], [0xaa, 0], "the proof is padded with zeros");
        assert_eq!(word(5)[31], 3, "instance columns are concatenated");
        assert_eq!(word(6)[31], 7);
        assert_eq!(word(8), fr_to_bytes(&-Fr::from(1u64)));
        assert_eq!(data.len(), 4 + 32 * 9);
    }
}
