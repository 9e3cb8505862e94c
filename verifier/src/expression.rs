//! Polynomial expressions over cells at rotations: the language of gates and lookups.

use crate::encoding::{fr_to_bytes, Reader};
use crate::error::{malformed, Error};
use ark_bn254::Fr;
use ark_ff::Zero;
use core::ops::{Add, Mul, Neg, Sub};

/// The kind of a column: fixed (set at key generation), advice (the prover's witness),
/// instance (public inputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ColumnKind {
    /// Values set at key generation and committed to by the verifying key.
    Fixed,
    /// The prover's witness.
    Advice,
    /// Public inputs.
    Instance,
}

/// A column of the circuit: its kind and its index among the columns of that kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Column {
    /// Fixed, advice or instance.
    pub kind: ColumnKind,
    /// The index among the columns of `kind`.
    pub index: usize,
}

impl Column {
    /// The `index`-th fixed column.
    pub fn fixed(index: usize) -> Self {
        Self { kind: ColumnKind::Fixed, index }
    }
    /// The `index`-th advice column.
    pub fn advice(index: usize) -> Self {
        Self { kind: ColumnKind::Advice, index }
    }
    /// The `index`-th instance column.
    pub fn instance(index: usize) -> Self {
        Self { kind: ColumnKind::Instance, index }
    }
}

/// What expressions and the protocol's identities are computed in: field elements, or
/// something that records the computation (the prover compiles the identities this way).
pub trait Value: Clone + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Neg<Output = Self> {
    /// The value of a constant.
    fn constant(c: Fr) -> Self;
    /// Whether the value is known to be zero.
    fn is_zero(&self) -> bool;
}

impl Value for Fr {
    fn constant(c: Fr) -> Self {
        c
    }
    fn is_zero(&self) -> bool {
        Zero::is_zero(self)
    }
}

/// A cell relative to the current row: `rotation` rows down (negative: up), wrapping around.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Query {
    /// The column read.
    pub column: Column,
    /// Rows down from the current row (negative: up).
    pub rotation: i32,
}

/// A polynomial in the cells of the circuit, relative to the current row.
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// A field element.
    Constant(Fr),
    /// A cell's value.
    Cell(Query),
    /// `-a`.
    Neg(Box<Expression>),
    /// `a + b`.
    Sum(Box<Expression>, Box<Expression>),
    /// `a * b`; `b` is not evaluated where `a` is zero.
    Product(Box<Expression>, Box<Expression>),
    /// `a * c` for a constant `c`.
    Scaled(Box<Expression>, Fr),
}

/// Deeper expressions are refused when decoding, so hostile bytes cannot exhaust the stack.
pub const MAX_EXPRESSION_DEPTH: usize = 1024;

impl Expression {
    /// The cell of `column` at `rotation` rows from the current row.
    pub fn cell(column: Column, rotation: i32) -> Self {
        Expression::Cell(Query { column, rotation })
    }

    /// A constant.
    pub fn constant(c: impl Into<Fr>) -> Self {
        Expression::Constant(c.into())
    }

    /// Degree as a polynomial in the column polynomials.
    pub fn degree(&self) -> usize {
        match self {
            Expression::Constant(_) => 0,
            Expression::Cell(_) => 1,
            Expression::Neg(a) | Expression::Scaled(a, _) => a.degree(),
            Expression::Sum(a, b) => a.degree().max(b.degree()),
            Expression::Product(a, b) => a.degree() + b.degree(),
        }
    }

    /// Evaluates with `cell` giving the value of each queried cell, over field elements or
    /// anything else that computes like them ([`Value`]).
    pub fn evaluate<T: Value>(&self, cell: &impl Fn(Query) -> T) -> T {
        match self {
            Expression::Constant(c) => T::constant(*c),
            Expression::Cell(q) => cell(*q),
            Expression::Neg(a) => -a.evaluate(cell),
            Expression::Sum(a, b) => a.evaluate(cell) + b.evaluate(cell),
            // Gates put their selector first: a zero selector skips the rest of the gate.
            Expression::Product(a, b) => {
                let a = a.evaluate(cell);
                if a.is_zero() {
                    a
                } else {
                    a * b.evaluate(cell)
                }
            }
            Expression::Scaled(a, c) => a.evaluate(cell) * T::constant(*c),
        }
    }

    /// Calls `f` on every cell query, left to right.
    pub fn for_each_query(&self, f: &mut impl FnMut(Query)) {
        match self {
            Expression::Constant(_) => {}
            Expression::Cell(q) => f(*q),
            Expression::Neg(a) | Expression::Scaled(a, _) => a.for_each_query(f),
            Expression::Sum(a, b) | Expression::Product(a, b) => {
                a.for_each_query(f);
                b.for_each_query(f);
            }
        }
    }

    /// Appends the expression's encoding, as the verifying key carries it.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Expression::Constant(c) => {
                out.push(0);
                out.extend_from_slice(&fr_to_bytes(c));
            }
            Expression::Cell(q) => {
                out.push(1);
                out.push(match q.column.kind {
                    ColumnKind::Fixed => 0,
                    ColumnKind::Advice => 1,
                    ColumnKind::Instance => 2,
                });
                out.extend_from_slice(&(q.column.index as u32).to_be_bytes());
                out.extend_from_slice(&q.rotation.to_be_bytes());
            }
            Expression::Neg(a) => {
                out.push(2);
                a.write(out);
            }
            Expression::Sum(a, b) => {
                out.push(3);
                a.write(out);
                b.write(out);
            }
            Expression::Product(a, b) => {
                out.push(4);
                a.write(out);
                b.write(out);
            }
            Expression::Scaled(a, c) => {
                out.push(5);
                a.write(out);
                out.extend_from_slice(&fr_to_bytes(c));
            }
        }
    }

    /// Reads an expression that `write` encoded, `depth` levels below the top (0 for a whole
    /// expression); `Error::Malformed` for anything else.
    pub fn read(r: &mut Reader, depth: usize) -> Result<Self, Error> {
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(malformed("expression nested deeper than the limit"));
        }
        let sub = |r: &mut Reader| Expression::read(r, depth + 1).map(Box::new);
        Ok(match r.u8()? {
            0 => Expression::Constant(r.fr()?),
            1 => {
                let kind = match r.u8()? {
                    0 => ColumnKind::Fixed,
                    1 => ColumnKind::Advice,
                    2 => ColumnKind::Instance,
                    t => return Err(malformed(format!("unknown column kind {t}"))),
                };
                let index = r.u32()? as usize;
                let rotation = r.i32()?;
                Expression::Cell(Query { column: Column { kind, index }, rotation })
            }
            2 => Expression::Neg(sub(r)?),
            3 => Expression::Sum(sub(r)?, sub(r)?),
            4 => Expression::Product(sub(r)?, sub(r)?),
            5 => Expression::Scaled(sub(r)?, r.fr()?),
            t => return Err(malformed(format!("unknown expression tag {t}"))),
        })
    }
}

impl Add for Expression {
    type Output = Expression;
    fn add(self, rhs: Expression) -> Expression {
        Expression::Sum(Box::new(self), Box::new(rhs))
    }
}

impl Sub for Expression {
    type Output = Expression;
    fn sub(self, rhs: Expression) -> Expression {
        Expression::Sum(Box::new(self), Box::new(-rhs))
    }
}

impl Mul for Expression {
    type Output = Expression;
    fn mul(self, rhs: Expression) -> Expression {
        Expression::Product(Box::new(self), Box::new(rhs))
    }
}

impl Mul<Fr> for Expression {
    type Output = Expression;
    fn mul(self, rhs: Fr) -> Expression {
        Expression::Scaled(Box::new(self), rhs)
    }
}

impl Neg for Expression {
    type Output = Expression;
    fn neg(self) -> Expression {
        Expression::Neg(Box::new(self))
    }
}
