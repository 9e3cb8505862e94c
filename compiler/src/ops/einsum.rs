//! Einsum of one or two operands, as exporters write it for `torch.einsum` (attention's
//! `bhqd,bhkd->bhqk`, a batched `bij,bjk->bik`, a transpose `ij->ji`): each output is a sum
//! over the contracted letters. Two computed operands make products of computed values, one
//! of them constant a dot product with its entries as weights; either is rescaled once. One
//! operand is a sum of its entries (a transpose, a diagonal or a reduction), exact. An ellipsis
//! (`...ij,...jk->...ik`) stands for the axes a term does not name, broadcast as numpy does:
//! once the shapes are known it becomes letters of its own, and the rest is as above.

use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{strides, Tensor};
use crate::Error;
use std::collections::BTreeMap;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Debug)]
pub struct Einsum {
    /// Each operand's letters, and the output's.
    operands: Vec<Vec<char>>,
    output: Vec<char>,
    /// The constant operand, by position, where one is.
    constant: Option<(usize, Constant)>,
}

pub fn einsum(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let equation: String = ctx.string("equation")?.ok_or("Einsum needs its equation")?.chars().filter(|c| !c.is_whitespace()).collect();
    // Letters, and at most one ellipsis per term.
    let parse = |term: &str| -> Result<Vec<char>, String> {
        match term.replacen("...", "", 1).chars().find(|c| !c.is_ascii_alphabetic()) {
            Some(c) => Err(format!("equation '{equation}': '{c}' is not a letter")),
            None => Ok(term.replacen("...", &ELLIPSIS.to_string(), 1).chars().collect()),
        }
    };
    let (lhs, output) = match equation.split_once("->") {
        Some((lhs, out)) => (lhs.to_string(), Some(parse(out)?)),
        None => (equation.clone(), None),
    };
    let operands: Vec<Vec<char>> = lhs.split(',').map(parse).collect::<Result<_, _>>()?;
    if operands.len() != ctx.node.inputs.len() || !(1..=2).contains(&operands.len()) {
        return Err(format!("equation '{equation}' for {} operands: one or two are supported", ctx.node.inputs.len()));
    }
    // Without an output: the ellipsis' axes, then the letters that appear once, in alphabetical
    // order.
    let output = output.unwrap_or_else(|| {
        let mut counts: BTreeMap<char, usize> = BTreeMap::new();
        operands.iter().flatten().filter(|c| **c != ELLIPSIS).for_each(|c| *counts.entry(*c).or_default() += 1);
        let ellipsis = operands.iter().flatten().any(|c| *c == ELLIPSIS).then_some(ELLIPSIS);
        ellipsis.into_iter().chain(counts.into_iter().filter(|(_, n)| *n == 1).map(|(c, _)| c)).collect()
    });
    if let Some(c) = output.iter().find(|c| !operands.iter().flatten().any(|l| l == *c)) {
        return Err(format!("equation '{equation}': output '{}' is in no operand", shown(&[*c])));
    }
    let constants: Vec<usize> = (0..operands.len()).filter(|&i| ctx.constant(i).is_some()).collect();
    let constant = match constants[..] {
        [] => None,
        [i] if operands.len() == 2 => Some((i, ctx.param(ctx.constant(i).expect("a constant").clone())?)),
        _ => return Err("every operand is a constant; constant-fold the model before export".into()),
    };
    Ok(Box::new(Einsum { operands, output, constant }))
}

/// Stands for `...` in a parsed term: the axes that the term does not name, numpy's broadcast
/// over the operands (aligned to the right, a size 1 against any other).
const ELLIPSIS: char = '\u{2026}';

/// The letter of the broadcast ellipsis' axis `j`, which no equation can write.
fn ellipsis_letter(j: usize) -> char {
    char::from_u32(0xE000 + j as u32).expect("a character of the private use area")
}

fn is_ellipsis_letter(c: char) -> bool {
    (0xE000..0xF900).contains(&(c as u32))
}

/// A term as the equation writes it.
fn shown(letters: &[char]) -> String {
    letters.iter().map(|&c| if c == ELLIPSIS { "...".to_string() } else { c.to_string() }).collect()
}

/// Per output (row-major), the flat indices of each operand's entries in its terms.
type Terms = Vec<Vec<Vec<usize>>>;

impl Einsum {
    /// Every operand's shape, the computed ones from `inputs`.
    fn shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let mut computed = inputs.iter();
        (0..self.operands.len())
            .map(|i| match &self.constant {
                Some((c, t)) if *c == i => Ok(t.values.shape.clone()),
                _ => computed.next().map(|s| s.to_vec()).ok_or_else(|| "a computed operand is missing".to_string()),
            })
            .collect()
    }

    /// The output's shape, and per output its terms: for each assignment of the contracted
    /// letters, the flat index in each operand.
    fn terms(&self, inputs: &[&[usize]]) -> Result<(Vec<usize>, Terms), String> {
        let shapes = self.shapes(inputs)?;
        // How many axes each operand's ellipsis covers; the broadcast covers the most.
        let under: Vec<usize> = self
            .operands
            .iter()
            .zip(&shapes)
            .map(|(letters, shape)| {
                let named = letters.iter().filter(|c| **c != ELLIPSIS).count();
                match (letters.contains(&ELLIPSIS), shape.len().checked_sub(named)) {
                    (true, Some(n)) => Ok(n),
                    (false, Some(0)) => Ok(0),
                    _ => Err(format!("operand of shape {shape:?} for the letters '{}'", shown(letters))),
                }
            })
            .collect::<Result<_, String>>()?;
        let broadcast = under.iter().copied().max().unwrap_or(0);
        if broadcast > 0 && !self.output.contains(&ELLIPSIS) {
            // As numpy: an output that names axes must name the ellipsis' too.
            return Err(format!("the output '{}' leaves out the {broadcast} axes under '...'; write '...' in it", shown(&self.output)));
        }
        let expand = |letters: &[char], n: usize| -> Vec<char> {
            letters.iter().flat_map(|&c| if c == ELLIPSIS { (broadcast - n..broadcast).map(ellipsis_letter).collect() } else { vec![c] }).collect()
        };
        let operands: Vec<Vec<char>> = self.operands.iter().zip(&under).map(|(letters, &n)| expand(letters, n)).collect();
        let output = expand(&self.output, broadcast);
        let mut sizes: BTreeMap<char, usize> = BTreeMap::new();
        for (letters, shape) in operands.iter().zip(&shapes) {
            for (&c, &n) in letters.iter().zip(shape) {
                let size = sizes.entry(c).or_insert(n);
                match (*size == n, is_ellipsis_letter(c) && (*size == 1 || n == 1)) {
                    (true, _) => {}
                    (false, true) => *size = (*size).max(n),
                    (false, false) if is_ellipsis_letter(c) => return Err(format!("the axes under '...' have sizes {size} and {n}, which do not broadcast")),
                    (false, false) => return Err(format!("letter '{c}' has sizes {size} and {n}")),
                }
            }
        }
        let contracted: Vec<char> = sizes.keys().copied().filter(|c| !output.contains(c)).collect();
        let out_shape: Vec<usize> = output.iter().map(|c| sizes[c]).collect();
        let inner_shape: Vec<usize> = contracted.iter().map(|c| sizes[c]).collect();
        let (outputs, inner) = (out_shape.iter().product::<usize>(), inner_shape.iter().product::<usize>());
        if outputs.checked_mul(inner).is_none_or(|n| n > crate::model::MAX_COMPUTED) {
            return Err(format!("{outputs} outputs of {inner} terms each are too many"));
        }
        // An axis of size 1 reads its one entry whatever the letter's value (a broadcast).
        let strides_of: Vec<Vec<usize>> = shapes.iter().map(|s| strides(s).into_iter().zip(s).map(|(st, &n)| if n == 1 { 0 } else { st }).collect()).collect();
        let (out_strides, inner_strides) = (strides(&out_shape), strides(&inner_shape));
        let mut value: BTreeMap<char, usize> = BTreeMap::new();
        let terms = (0..outputs)
            .map(|o| {
                for (k, c) in output.iter().enumerate() {
                    value.insert(*c, o / out_strides[k] % out_shape[k]);
                }
                (0..inner)
                    .map(|t| {
                        for (k, c) in contracted.iter().enumerate() {
                            value.insert(*c, t / inner_strides[k] % inner_shape[k]);
                        }
                        operands.iter().zip(&strides_of).map(|(letters, st)| letters.iter().zip(st).map(|(c, s)| value[c] * s).sum()).collect()
                    })
                    .collect()
            })
            .collect();
        Ok((out_shape, terms))
    }
}

impl Op for Einsum {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.terms(inputs)?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, terms) = self.terms(&shapes).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let rescale = |arith: &mut dyn Arith, sums: Vec<Wire>| arith.element(ElementOp { rescale: true, relu: false }, sums.into_iter().map(|v| (v, None)).collect());
        let out = match (&self.constant, inputs) {
            (_, [x]) if self.operands.len() == 1 => arith.dot(
                terms.iter().map(|t| Dot { inputs: t.iter().map(|i| x.data[i[0]].clone()).collect(), weights: vec![Coef::Const(1); t.len()], bias: Coef::Const(0) }).collect(),
            )?,
            (Some((c, weights)), [x]) => {
                let dots = terms.iter().map(|t| Dot {
                    inputs: t.iter().map(|i| x.data[i[1 - c]].clone()).collect(),
                    weights: t.iter().map(|i| weights.coef(i[*c], bits)).collect(),
                    bias: Coef::Const(0),
                });
                let sums = arith.dot(dots.collect())?;
                rescale(arith, sums)?
            }
            (None, [a, b]) => {
                let sums = arith.products(terms.iter().map(|t| t.iter().map(|i| (a.data[i[0]].clone(), b.data[i[1]].clone())).collect()).collect())?;
                rescale(arith, sums)?
            }
            _ => return Err(Error::Shape("the operands do not match the equation".into())),
        };
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, terms) = self.terms(&shapes).map_err(Error::Shape)?;
        let mut computed = inputs.iter();
        let operands: Vec<&Tensor<f32>> = (0..self.operands.len())
            .map(|i| match &self.constant {
                Some((c, t)) if *c == i => &t.values,
                _ => *computed.next().expect("counted by terms"),
            })
            .collect();
        let out = terms.iter().map(|t| t.iter().map(|i| i.iter().zip(&operands).map(|(&k, op)| op.data[k] as f64).product::<f64>()).sum::<f64>() as f32);
        Ok(Tensor::new(shape, out.collect()))
    }

    fn uses_products(&self) -> bool {
        self.operands.len() == 2 && self.constant.is_none()
    }
}
