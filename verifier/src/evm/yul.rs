//! Field arithmetic as Yul expressions, with the stack depth of every expression bounded.
//!
//! Yul pushes the arguments of a call right to left, so `addmod(a, b, r)` holds `r` while it
//! evaluates `b`, and `r` and `b` while it evaluates `a`. Nesting the identities of a large
//! circuit verbatim would overflow the 16 slots that `DUP` reaches (a compile error) or the
//! EVM stack itself; an operand that would make an expression too tall is evaluated first
//! into a scratch word of memory instead.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

/// Stack slots an expression may use. The modulus lives in the local `r`; the generated code
/// keeps at most six locals above it, so `DUP` still reaches it from the top of an expression.
const MAX_HEIGHT: usize = 8;

/// A Yul expression for a value in `[0, r]` (reduced, except that `sub(r, 0) = r`, which every
/// `addmod`/`mulmod` then reduces), with the stack slots it needs.
#[derive(Clone, Debug)]
pub struct Expr {
    pub code: String,
    height: usize,
}

impl Expr {
    /// A local or a literal.
    pub fn raw(code: impl Into<String>) -> Self {
        Self { code: code.into(), height: 1 }
    }

    /// The word at a memory address, a name of the memory map.
    pub fn load(address: String) -> Self {
        Self::raw(format!("mload({address})"))
    }

    pub fn constant(c: Fr) -> Self {
        let small = |f: Fr| {
            let b = f.into_bigint();
            (b.num_bits() <= 64).then(|| b.as_ref()[0])
        };
        match (small(c), small(-c)) {
            (Some(v), _) => Self::raw(v.to_string()),
            (None, Some(v)) => Self { code: format!("sub(r, {v})"), height: 2 },
            (None, None) => Self::raw(fr_hex(&c)),
        }
    }
}

/// Builds expressions, spilling operands to scratch memory when they get too tall.
pub struct Builder<'a> {
    /// Statements that must run before the expressions built so far are evaluated.
    pub statements: Vec<String>,
    /// The address of a word of scratch memory, and the first word that spills may use.
    scratch: &'a dyn Fn(usize) -> String,
    first: usize,
    spilled: usize,
}

impl<'a> Builder<'a> {
    pub fn new(scratch: &'a dyn Fn(usize) -> String, first: usize) -> Self {
        Self { statements: Vec::new(), scratch, first, spilled: 0 }
    }

    /// Starts a new top-level statement: the previous spills are consumed.
    pub fn reset(&mut self) {
        self.spilled = 0;
    }

    fn spill(&mut self, v: Expr) -> Expr {
        let address = (self.scratch)(self.first + self.spilled);
        self.spilled += 1;
        self.statements.push(format!("mstore({address}, {})", v.code));
        Expr::load(address)
    }

    /// `op(a, b, r)` for a commutative `op`, the taller operand evaluated first.
    fn modular(&mut self, op: &str, a: Expr, b: Expr) -> Expr {
        let (mut low, mut high) = if a.height <= b.height { (a, b) } else { (b, a) };
        if 1 + high.height > MAX_HEIGHT {
            high = self.spill(high);
        }
        if 2 + low.height > MAX_HEIGHT {
            low = self.spill(low);
        }
        let height = (1 + high.height).max(2 + low.height);
        Expr { code: format!("{op}({}, {}, r)", low.code, high.code), height }
    }

    pub fn add(&mut self, a: Expr, b: Expr) -> Expr {
        self.modular("addmod", a, b)
    }

    pub fn mul(&mut self, a: Expr, b: Expr) -> Expr {
        self.modular("mulmod", a, b)
    }

    pub fn neg(&mut self, a: Expr) -> Expr {
        let height = a.height.max(2);
        Expr { code: format!("sub(r, {})", a.code), height }
    }

    pub fn sub(&mut self, a: Expr, b: Expr) -> Expr {
        let b = self.neg(b);
        self.add(a, b)
    }
}

pub fn hex(v: usize) -> String {
    format!("{v:#x}")
}

/// A 256-bit word as a Yul/Solidity literal.
pub fn word_hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let trimmed = digits.trim_start_matches('0');
    format!("0x{}", if trimmed.is_empty() { "0" } else { trimmed })
}

pub fn fr_hex(x: &Fr) -> String {
    word_hex(&x.into_bigint().to_bytes_be())
}
