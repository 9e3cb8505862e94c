//! The identities in Yul, from the one definition the other verifiers and the prover use:
//! [`crate::constraints::Constraints::combine`] runs over [`Traced`] values, which record each
//! operation once (a repeated one is shared), and [`Recorder::write`] turns the record into
//! statements.
//!
//! An operation read once, right where its reader's other operands end in the order `combine`
//! computed them, is nested into its reader's expression. Any other (read twice, or computed long
//! before its reader, as the running combination in `y` is) is assigned to a local or, while
//! all five locals `t0`..`t4` hold values still to be read, to a word of scratch memory. So each identity becomes one statement
//! `t0 := addmod(mulmod(t0, y, r), ..., r)`, and a value that several read (`beta x`, a column
//! plus `gamma`, a lookup's compressed tuple) is computed once.

use super::yul::{Builder, Expr};
use crate::constraints::Part;
use crate::expression::Value;
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::{Add, Mul, Neg, Sub};
use std::rc::Rc;

/// Locals for recorded values. With `y` that makes the six locals above `r` that the height of
/// an expression (`yul::MAX_HEIGHT`) allows for.
const MAX_LOCALS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Op {
    Add,
    Sub,
    Mul,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Operand {
    /// An expression without operations, such as a word of memory (`Trace::leaves`).
    Leaf(usize),
    Constant(Fr),
    /// The result of the recorded operation with this index.
    Op(usize),
}

#[derive(Default)]
struct Trace {
    leaves: Vec<Expr>,
    leaf_index: HashMap<String, usize>,
    ops: Vec<(Op, Operand, Operand)>,
    memo: HashMap<(Op, Operand, Operand), usize>,
    /// Comments, each before the statements of the operations from this index on.
    labels: Vec<(usize, String)>,
}

/// A value of the identities: a constant, or where the trace keeps it.
#[derive(Clone)]
pub enum Traced {
    Known(Fr),
    At(Recorder, Operand),
}

/// Records the operations on [`Traced`] values.
#[derive(Clone, Default)]
pub struct Recorder(Rc<RefCell<Trace>>);

impl Recorder {
    /// A value that `code` computes without operations: a local or a load from memory.
    pub fn leaf(&self, code: Expr) -> Traced {
        let mut t = self.0.borrow_mut();
        let next = t.leaves.len();
        let index = *t.leaf_index.entry(code.code.clone()).or_insert(next);
        if index == next {
            t.leaves.push(code);
        }
        Traced::At(self.clone(), Operand::Leaf(index))
    }

    /// Labels the statements of the part that begins.
    pub fn begin(&self, part: Part) {
        // Debug-quoted: a name from the key cannot end the comment line and write code.
        let label = match part {
            Part::Gate(name) => format!("gate {name:?}"),
            Part::Permutation => "permutation".into(),
            Part::Lookup(name) => format!("lookup {name:?}"),
        };
        let mut t = self.0.borrow_mut();
        let at = t.ops.len();
        t.labels.push((at, label));
    }

    fn record(&self, op: Op, a: Operand, b: Operand) -> Operand {
        let (a, b) = if op != Op::Sub && b < a { (b, a) } else { (a, b) };
        let mut t = self.0.borrow_mut();
        let next = t.ops.len();
        let index = *t.memo.entry((op, a, b)).or_insert(next);
        if index == next {
            t.ops.push((op, a, b));
        }
        Operand::Op(index)
    }

    /// Appends to `lines` the statements that compute `result`, and returns its expression.
    /// The words of scratch memory (`scratch` names each) hold the values no local holds and
    /// the operands spilled from tall expressions.
    pub fn write(&self, result: &Traced, scratch: &dyn Fn(usize) -> String, lines: &mut Vec<String>) -> Expr {
        let t = self.0.borrow();
        let root = result.operand();
        let plan = Plan::new(&t.ops, root);
        let mut b = Builder::new(scratch, plan.words);
        let mut labels = t.labels.iter().peekable();
        let mut declared = BTreeSet::new();
        for &s in &plan.order {
            let Some(home) = plan.home[s] else { continue };
            while let Some((_, label)) = labels.next_if(|(at, _)| *at <= s) {
                lines.push(format!("// {label}"));
            }
            let e = plan.expr(&t, &mut b, s, scratch);
            lines.append(&mut b.statements);
            b.reset();
            lines.push(match home {
                Home::Local(l) if declared.insert(l) => format!("let t{l} := {}", e.code),
                Home::Local(l) => format!("t{l} := {}", e.code),
                Home::Word(w) => format!("mstore({}, {})", scratch(w), e.code),
            });
        }
        labels.for_each(|(_, label)| lines.push(format!("// {label}")));
        let e = plan.operand(&t, &mut b, root, scratch);
        lines.append(&mut b.statements);
        e
    }
}

/// Where a value assigned by its own statement is kept.
#[derive(Clone, Copy)]
enum Home {
    /// The local `t{i}`.
    Local(usize),
    /// A word of scratch memory.
    Word(usize),
}

/// How the recorded operations become statements: which are nested into their reader, and
/// where the others are kept.
struct Plan {
    /// The operations `root` needs, in the order they were recorded.
    order: Vec<usize>,
    /// Whether an operation is nested into its one reader's expression.
    nested: Vec<bool>,
    /// For the others that are needed, where their statement keeps them.
    home: Vec<Option<Home>>,
    /// Scratch words used as homes.
    words: usize,
}

impl Plan {
    fn new(ops: &[(Op, Operand, Operand)], root: Operand) -> Self {
        let n = ops.len();
        let index = |o: Operand| match o {
            Operand::Op(i) => Some(i),
            _ => None,
        };
        let reads = |i: usize| [ops[i].1, ops[i].2].into_iter().filter_map(index);
        let mut uses = vec![0usize; n];
        if let Some(i) = index(root) {
            uses[i] = 1;
        }
        for i in (0..n).rev() {
            if uses[i] > 0 {
                reads(i).for_each(|j| uses[j] += 1);
            }
        }
        let order: Vec<usize> = (0..n).filter(|&i| uses[i] > 0).collect();
        let mut rank = vec![0; n];
        order.iter().enumerate().for_each(|(p, &i)| rank[i] = p);

        // An operand read once is nested when it and what is nested into it are exactly the
        // operations recorded just before its reader (after its other nested operand): nesting
        // it then neither moves a computation past a statement nor lengthens a local's life.
        let (mut nested, mut size, mut reader) = (vec![false; n], vec![1; n], vec![0; n]);
        for &u in &order {
            let mut operands: Vec<usize> = reads(u).collect();
            operands.sort_unstable();
            let mut end = rank[u];
            for &i in operands.iter().rev() {
                if uses[i] != 1 || rank[i] + 1 != end {
                    break;
                }
                (nested[i], reader[i]) = (true, u);
                end -= size[i];
                size[u] += size[i];
            }
        }

        // The statement each operation is read in; a home is free once its last reader ran.
        let mut statement: Vec<usize> = (0..n).collect();
        for &i in order.iter().rev().filter(|&&i| nested[i]) {
            statement[i] = statement[reader[i]];
        }
        let mut frees: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut last = vec![None; n];
        for &u in &order {
            reads(u).filter(|&j| !nested[j]).for_each(|j| last[j] = last[j].max(Some(statement[u])));
        }
        for &i in &order {
            // The root is read after every statement.
            if let (Some(s), false) = (last[i], Some(i) == index(root)) {
                frees[s].push(i);
            }
        }

        let mut home = vec![None; n];
        let (mut free_locals, mut free_words) = (BTreeSet::new(), BTreeSet::new());
        let (mut locals, mut words) = (0, 0);
        for &s in order.iter().filter(|&&s| !nested[s]) {
            for &v in &frees[s] {
                match home[v] {
                    Some(Home::Local(l)) => free_locals.insert(l),
                    Some(Home::Word(w)) => free_words.insert(w),
                    None => unreachable!("a value is read after its statement"),
                };
            }
            home[s] = Some(if let Some(l) = free_locals.pop_first() {
                Home::Local(l)
            } else if locals < MAX_LOCALS {
                locals += 1;
                Home::Local(locals - 1)
            } else if let Some(w) = free_words.pop_first() {
                Home::Word(w)
            } else {
                words += 1;
                Home::Word(words - 1)
            });
        }
        Self { order, nested, home, words }
    }

    fn operand(&self, t: &Trace, b: &mut Builder, o: Operand, scratch: &dyn Fn(usize) -> String) -> Expr {
        match o {
            Operand::Leaf(k) => t.leaves[k].clone(),
            Operand::Constant(c) => Expr::constant(c),
            Operand::Op(i) if self.nested[i] => self.expr(t, b, i, scratch),
            Operand::Op(i) => match self.home[i].expect("a value's statement comes first") {
                Home::Local(l) => Expr::raw(format!("t{l}")),
                Home::Word(w) => Expr::load(scratch(w)),
            },
        }
    }

    /// The expression of operation `i`, its nested operands included.
    fn expr(&self, t: &Trace, b: &mut Builder, i: usize, scratch: &dyn Fn(usize) -> String) -> Expr {
        let (op, x, y) = t.ops[i];
        let y_expr = self.operand(t, b, y, scratch);
        if op == Op::Sub && x == Operand::Constant(Fr::zero()) {
            return b.neg(y_expr);
        }
        let x_expr = self.operand(t, b, x, scratch);
        match op {
            Op::Add => b.add(x_expr, y_expr),
            Op::Sub => b.sub(x_expr, y_expr),
            Op::Mul => b.mul(x_expr, y_expr),
        }
    }
}

impl Traced {
    fn operand(&self) -> Operand {
        match self {
            Traced::Known(c) => Operand::Constant(*c),
            Traced::At(_, o) => *o,
        }
    }

    /// `self op rhs`, folded where constants make it known or trivial, else recorded.
    fn op(self, op: Op, rhs: Traced) -> Traced {
        let is = |v: &Traced, c: Fr| matches!(v, Traced::Known(k) if *k == c);
        let (zero, one) = (Fr::zero(), Fr::one());
        match op {
            Op::Add if is(&self, zero) => return rhs,
            Op::Add | Op::Sub if is(&rhs, zero) => return self,
            Op::Mul if is(&self, zero) || is(&rhs, zero) => return Traced::Known(zero),
            Op::Mul if is(&self, one) => return rhs,
            Op::Mul if is(&rhs, one) => return self,
            _ => {}
        }
        let recorder = match (&self, &rhs) {
            (Traced::Known(a), Traced::Known(b)) => {
                return Traced::Known(match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                })
            }
            (Traced::At(r, _), _) | (_, Traced::At(r, _)) => r.clone(),
        };
        let operand = recorder.record(op, self.operand(), rhs.operand());
        Traced::At(recorder, operand)
    }
}

/// `+`, `-` and `*` fold or record the operation.
macro_rules! operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl $trait for Traced {
            type Output = Traced;
            fn $method(self, rhs: Traced) -> Traced {
                self.op($op, rhs)
            }
        }
    };
}

operator!(Add, add, Op::Add);
operator!(Sub, sub, Op::Sub);
operator!(Mul, mul, Op::Mul);

impl Neg for Traced {
    type Output = Traced;
    fn neg(self) -> Traced {
        Traced::Known(Fr::zero()).op(Op::Sub, self)
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
