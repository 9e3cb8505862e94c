//! Hardmax and TopK: which entries of a lane are its largest, exact. Both find each lane's
//! first maximum as ArgMax does (the maximum through relu, `relu(x - max + 1)` marking every
//! position that reaches it, a running maximum of the marks that turns 1 at the first); TopK
//! takes it out of the lane and looks again, `k` times.

use super::nonlinear::{first_maxima, lane_maxima, lanes};
use super::{axis as axis_of, negated, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;

/// Opset 13's Hardmax: 1 at the first maximum along `axis`, 0 elsewhere (earlier opsets flatten
/// from `axis` on, which is the same for the usual `[N, C]` input with axis 1).
#[derive(Debug)]
pub struct Hardmax {
    axis: i64,
}

/// The `k` largest (`largest = 0`: smallest) entries of each lane along `axis`, in order, and
/// their indices, ties to the lower index as ONNX says. Each round finds the lane's first
/// maximum; before the next it is replaced by a value below every entry. For that the lane is
/// shifted to `u = x - min(x) + 1 >= 1`, where the replacement is 0: `u (1 - first)`, a product
/// of computed values whose interval stays the lane's (with a fixed low value, each round's
/// intervals would widen by the lane's spread). `sorted = 0` leaves the order open, so the sorted
/// one serves it too.
#[derive(Debug)]
pub struct TopK {
    k: usize,
    axis: i64,
    largest: bool,
}

pub fn hardmax(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Hardmax { axis: ctx.int("axis", -1)? }))
}

pub fn top_k(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    // Opset 10 on: the constant input K; opset 1: the attribute k.
    let k = match ctx.int_input(1, "K")? {
        Some(k) => match k[..] {
            [k] => k,
            _ => return Err(format!("K holds {} values; it must hold one", k.len())),
        },
        None => ctx.int("k", 0)?,
    };
    if k < 1 {
        return Err(format!("k = {k}: at least one entry must be selected"));
    }
    Ok(Box::new(TopK { k: k as usize, axis: ctx.int("axis", -1)?, largest: ctx.int("largest", 1)? != 0 }))
}

/// `seen[k] - seen[k - 1]` times `weight` plus `bias`: `first` (`weight` 1, `bias` 0) or its
/// complement (`weight` -1, `bias` 1) at position `k`, in whole units or at the scale.
fn first_at(seen: &[Wire], k: usize, weight: i64, bias: i64) -> Dot {
    match k {
        0 => Dot { inputs: vec![seen[0].clone()], weights: vec![Coef::Const(weight)], bias: Coef::Const(bias) },
        _ => Dot { inputs: vec![seen[k].clone(), seen[k - 1].clone()], weights: vec![Coef::Const(weight), Coef::Const(-weight)], bias: Coef::Const(bias) },
    }
}

/// The values of `x` along each lane of `axis`.
fn lane_values(x: &Tensor<Wire>, axis: usize) -> Vec<Vec<Wire>> {
    lanes(&x.shape, axis).iter().map(|l| l.iter().map(|&i| x.data[i].clone()).collect()).collect()
}

impl Hardmax {
    /// The axis, along which there is at least one entry.
    fn axis(&self, shape: &[usize]) -> Result<usize, String> {
        let axis = axis_of(self.axis, shape.len())?;
        match shape[axis] {
            0 => Err(format!("axis {axis} of shape {shape:?} is empty")),
            _ => Ok(axis),
        }
    }
}

impl Op for Hardmax {
    fn boolean(&self, _: &[bool]) -> bool {
        true
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        self.axis(inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let axis = self.axis(&x.shape).map_err(Error::Shape)?;
        let (_, seen) = first_maxima(arith, &lane_values(x, axis), x.shape[axis])?;
        let one = 1i64 << arith.shape().scale_bits;
        let marks = arith.dot(seen.iter().flat_map(|s| (0..s.len()).map(|k| first_at(s, k, one, 0))).collect())?;
        let mut marks = arith.assume(marks, 0, one)?.into_iter();
        let mut data = x.data.clone();
        for lane in lanes(&x.shape, axis) {
            lane.iter().zip(marks.by_ref()).for_each(|(&i, v)| data[i] = v);
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let axis = self.axis(&x.shape).map_err(Error::Shape)?;
        let mut data = vec![0.0; x.len()];
        for lane in lanes(&x.shape, axis) {
            let best = lane.iter().map(|&i| x.data[i]).fold(f32::NEG_INFINITY, f32::max);
            if let Some(&i) = lane.iter().find(|&&i| x.data[i] == best) {
                data[i] = 1.0;
            }
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }
}

impl TopK {
    /// The shape of each output: the input's, `k` along the axis.
    fn selected(&self, shape: &[usize]) -> Result<(usize, Vec<usize>), String> {
        let axis = axis_of(self.axis, shape.len())?;
        if self.k > shape[axis] {
            return Err(format!("k = {} is more than the {} entries along axis {axis} of shape {shape:?}", self.k, shape[axis]));
        }
        let mut out = shape.to_vec();
        out[axis] = self.k;
        Ok((axis, out))
    }

    /// Values then indices, flat, each placed by its lane of `out` and its rank.
    fn placed<T: Clone>(out: &[usize], axis: usize, ranked: Vec<Vec<(T, T)>>) -> Tensor<T> {
        let total = out.iter().product::<usize>();
        let (mut values, mut indices): (Vec<Option<T>>, Vec<Option<T>>) = (vec![None; total], vec![None; total]);
        for (lane, picks) in lanes(out, axis).into_iter().zip(ranked) {
            for (&i, (v, index)) in lane.iter().zip(picks) {
                (values[i], indices[i]) = (Some(v), Some(index));
            }
        }
        let data: Vec<T> = values.into_iter().chain(indices).map(|v| v.expect("every output is some lane's pick")).collect();
        Tensor::new(vec![2 * total], data)
    }
}

impl Op for TopK {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![2 * self.selected(inputs[0])?.1.iter().product::<usize>()])
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let (_, out) = self.selected(inputs[0])?;
        Ok(vec![out.clone(), out])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (axis, out) = self.selected(&inputs[0].shape).map_err(Error::Shape)?;
        let one = 1i64 << arith.shape().scale_bits;
        // The smallest entries are the largest of `-x`.
        let x = match self.largest {
            true => inputs[0].clone(),
            false => Tensor::new(inputs[0].shape.clone(), negated(arith, inputs[0].data.clone())?),
        };
        let values = lane_values(&x, axis);
        let n = x.shape[axis];
        // Each lane's minimum, `-max(-x)`, whose intervals stay exact.
        let mut flipped = negated(arith, values.concat())?.into_iter();
        let flipped: Vec<Vec<Wire>> = values.iter().map(|l| flipped.by_ref().take(l.len()).collect()).collect();
        let highs = lane_maxima(arith, &flipped)?;
        let lows = negated(arith, highs)?;
        let shifted = values
            .iter()
            .zip(&lows)
            .flat_map(|(l, low)| l.iter().map(|v| Dot { inputs: vec![v.clone(), low.clone()], weights: vec![Coef::Const(1), Coef::Const(-1)], bias: Coef::Const(1) }));
        let shifted = arith.dot(shifted.collect())?;
        // `x - min(x) + 1` is at least 1, which the intervals of the difference do not show.
        let mut shifted = arith.assume(shifted, 1, i64::MAX)?.into_iter();
        let mut current: Vec<Vec<Wire>> = values.iter().map(|l| shifted.by_ref().take(l.len()).collect()).collect();
        let sign = if self.largest { 1 } else { -1 };
        let mut ranked: Vec<Vec<(Wire, Wire)>> = vec![Vec::with_capacity(self.k); values.len()];
        for round in 0..self.k {
            let (maxima, seen) = first_maxima(arith, &current, n)?;
            // Back from `u` to `x` (and to the smallest's own sign): `m + min(x) - 1`.
            let picked = maxima.into_iter().zip(&lows).map(|(m, low)| Dot { inputs: vec![m, low.clone()], weights: vec![Coef::Const(sign); 2], bias: Coef::Const(-sign) });
            let picked = arith.dot(picked.collect())?;
            // The first maximum's position is the number of zeros in `seen`.
            let indices = arith.dot(seen.iter().map(|s| Dot { inputs: s.clone(), weights: vec![Coef::Const(-one); n], bias: Coef::Const(n as i64 * one) }).collect())?;
            for ((r, v), i) in ranked.iter_mut().zip(picked).zip(indices) {
                r.push((v, i));
            }
            if round + 1 < self.k {
                let kept = arith.dot(seen.iter().flat_map(|s| (0..n).map(|k| first_at(s, k, -1, 1))).collect())?;
                let mut kept = arith.assume(kept, 0, 1)?.into_iter();
                let products = current.iter().flat_map(|l| l.iter().map(|u| vec![(kept.next().expect("one per entry"), u.clone())]).collect::<Vec<_>>()).collect();
                let mut next = arith.products(products)?.into_iter();
                current = current.iter().map(|l| next.by_ref().take(l.len()).collect()).collect();
            }
        }
        Ok(Self::placed(&out, axis, ranked))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let (axis, out) = self.selected(&x.shape).map_err(Error::Shape)?;
        let ranked = lanes(&x.shape, axis)
            .into_iter()
            .map(|lane| {
                let mut order: Vec<usize> = (0..lane.len()).collect();
                // A stable sort: equal values keep the lower index first.
                order.sort_by(|&a, &b| {
                    let (a, b) = (x.data[lane[a]], x.data[lane[b]]);
                    let ordering = if self.largest { b.partial_cmp(&a) } else { a.partial_cmp(&b) };
                    ordering.unwrap_or(std::cmp::Ordering::Equal)
                });
                order.into_iter().take(self.k).map(|k| (x.data[lane[k]], k as f32)).collect()
            })
            .collect();
        Ok(Self::placed(&out, axis, ranked))
    }

    fn uses_products(&self) -> bool {
        self.k > 1
    }
}
