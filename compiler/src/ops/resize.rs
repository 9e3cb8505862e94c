//! Resize (opsets 10 to 19) and Upsample (7 and 9): each output position maps, axis by axis, to
//! a coordinate of the input (`coordinate_transformation_mode`). Mode nearest copies the input
//! cell nearest to it (`nearest_mode`): copies, no rows. Mode linear weighs the two cells around
//! it on each resized axis, so up to 2^d cells for d axes, with constant weights (the products
//! of the axes'): one dot product with the weights at the scale, then one rescale, as Dense
//! does; an output that lands on an input cell is a copy of it. With tf_crop_and_resize an
//! output whose coordinate lies outside the input reads one cell fixed to
//! `extrapolation_value`.
//!
//! The float semantics are onnxruntime's: coordinates in f32, an axis of scale 1 left as it is,
//! linear taps clamped into the input. `exclude_outside` changes nothing for linear (a tap
//! outside the input is a copy of the edge cell, so giving the inside one its weight leaves the
//! sum as it is) and is refused with nearest, as onnxruntime refuses it; `cubic_coeff_a` only
//! concerns the cubic mode, which is refused, as is `antialias`.

use super::{axis, quantize, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{strides, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

/// ONNX's coordinate_transformation_mode: where output position `x` of an axis lies in the
/// input's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transform {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    Asymmetric,
    AlignCorners,
    /// Deprecated in opset 13, still read by onnxruntime.
    TfHalfPixelForNn,
    TfCropAndResize,
}

/// ONNX's nearest_mode: the input cell a coordinate rounds to.
#[derive(Clone, Copy, Debug)]
enum Nearest {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
    /// Resize-10's and Upsample's, from before the attribute: truncated, or the ceiling when
    /// the axis shrinks.
    Simple,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Nearest(Nearest),
    Linear,
}

/// opset 18's keep_aspect_ratio_policy for sizes: every resized axis takes the smallest
/// (`NotLarger`) or largest (`NotSmaller`) of their scales.
#[derive(Clone, Copy, Debug)]
enum Policy {
    Stretch,
    NotLarger,
    NotSmaller,
}

/// The output's size, per axis of `axes`.
#[derive(Debug)]
enum Target {
    Scales(Vec<f32>),
    Sizes(Vec<i64>, Policy),
}

#[derive(Debug)]
pub struct Resize {
    mode: Mode,
    transform: Transform,
    target: Target,
    /// The axes that the target and the roi speak of (opset 18); every axis when absent.
    axes: Option<Vec<i64>>,
    /// tf_crop_and_resize's region of the input, as fractions of each axis of `axes`: the
    /// starts, then the ends.
    roi: Vec<f32>,
    /// What tf_crop_and_resize gives an output outside the input.
    extrapolation: f32,
}

fn mode(ctx: &NodeCtx, nearest: Nearest) -> Result<Mode, String> {
    match ctx.string("mode")?.as_deref().unwrap_or("nearest") {
        "nearest" => Ok(Mode::Nearest(nearest)),
        "linear" => Ok(Mode::Linear),
        "cubic" => Err(format!("{} mode cubic is not supported; export with mode nearest or linear", ctx.node.op_type)),
        other => Err(format!("mode '{other}' is not nearest, linear or cubic")),
    }
}

/// Upsample-7 gives its scales as an attribute, Upsample-9 as input 1; both map coordinates
/// asymmetrically and truncate nearest ones, and only enlarge.
pub fn upsample(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let scales = match ctx.floats("scales")? {
        Some(s) => s,
        None => ctx.require_constant(1, "scales")?.data.clone(),
    };
    if let Some(s) = scales.iter().find(|s| s.is_nan() || **s < 1.0) {
        return Err(format!("scale {s} is below 1; Upsample only enlarges"));
    }
    let mode = mode(ctx, Nearest::Simple)?;
    Ok(Box::new(Resize { mode, transform: Transform::Asymmetric, target: Target::Scales(scales), axes: None, roi: vec![], extrapolation: 0.0 }))
}

/// Resize-10 has the inputs (X, scales) and only the `mode` attribute; from 11 on (X, roi,
/// scales, sizes), one of scales and sizes given. The node does not say its opset: two inputs
/// are Resize-10's, which maps coordinates asymmetrically and truncates nearest ones.
pub fn resize(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.inputs.len() == 2 {
        let scales = ctx.require_constant(1, "scales")?.data.clone();
        let mode = mode(ctx, Nearest::Simple)?;
        return Ok(Box::new(Resize { mode, transform: Transform::Asymmetric, target: Target::Scales(scales), axes: None, roi: vec![], extrapolation: 0.0 }));
    }
    if ctx.int("antialias", 0)? != 0 {
        return Err("antialias = 1 is not supported; export with antialias = 0".into());
    }
    let nearest = match ctx.string("nearest_mode")?.as_deref().unwrap_or("round_prefer_floor") {
        "round_prefer_floor" => Nearest::RoundPreferFloor,
        "round_prefer_ceil" => Nearest::RoundPreferCeil,
        "floor" => Nearest::Floor,
        "ceil" => Nearest::Ceil,
        other => return Err(format!("nearest_mode '{other}' is not round_prefer_floor, round_prefer_ceil, floor or ceil")),
    };
    let mode = mode(ctx, nearest)?;
    if matches!(mode, Mode::Nearest(_)) && ctx.int("exclude_outside", 0)? != 0 {
        return Err("exclude_outside = 1 with mode nearest is not supported (onnxruntime refuses it too)".into());
    }
    let transform = match ctx.string("coordinate_transformation_mode")?.as_deref().unwrap_or("half_pixel") {
        "half_pixel" => Transform::HalfPixel,
        "half_pixel_symmetric" => Transform::HalfPixelSymmetric,
        "pytorch_half_pixel" => Transform::PytorchHalfPixel,
        "asymmetric" => Transform::Asymmetric,
        "align_corners" => Transform::AlignCorners,
        "tf_half_pixel_for_nn" => Transform::TfHalfPixelForNn,
        "tf_crop_and_resize" => Transform::TfCropAndResize,
        other => return Err(format!("coordinate_transformation_mode '{other}' is not supported")),
    };
    let policy = match ctx.string("keep_aspect_ratio_policy")?.as_deref().unwrap_or("stretch") {
        "stretch" => Policy::Stretch,
        "not_larger" => Policy::NotLarger,
        "not_smaller" => Policy::NotSmaller,
        other => return Err(format!("keep_aspect_ratio_policy '{other}' is not stretch, not_larger or not_smaller")),
    };
    // An empty scales tensor stands for none, as exporters write it beside sizes.
    let scales = ctx.optional_constant(2, "scales")?.filter(|s| !s.is_empty());
    let target = match (scales, ctx.int_input(3, "sizes")?) {
        (Some(s), None) => Target::Scales(s.data.clone()),
        (None, Some(sizes)) => Target::Sizes(sizes, policy),
        (Some(_), Some(_)) => return Err("both scales and sizes are given; ONNX allows one".into()),
        (None, None) => return Err("neither scales nor sizes is given".into()),
    };
    let (mut roi, extrapolation) = (vec![], ctx.float("extrapolation_value", 0.0)?);
    if transform == Transform::TfCropAndResize {
        roi = ctx.optional_constant(1, "roi")?.ok_or("tf_crop_and_resize needs input 1 (roi)")?.data.clone();
        if let Some(v) = roi.iter().chain([&extrapolation]).find(|v| !v.is_finite()) {
            return Err(format!("tf_crop_and_resize with {v} in its roi or extrapolation_value, which fixed point cannot hold"));
        }
    }
    Ok(Box::new(Resize { mode, transform, target, axes: ctx.ints("axes")?, roi, extrapolation }))
}

impl Transform {
    /// The input coordinate of output position `x` on an axis of `size` resized to `out` by
    /// `scale`, `roi` the axis's region (start, end); in f32, as onnxruntime computes it.
    fn source(self, x: f32, scale: f32, size: usize, out: usize, (start, end): (f32, f32)) -> f32 {
        let (n, m) = (size as f32, out as f32);
        match self {
            Transform::HalfPixel => (x + 0.5) / scale - 0.5,
            // half_pixel shifted so that the input's centre maps to the output's where its size
            // was rounded down from `scale * n`.
            Transform::HalfPixelSymmetric => n / 2.0 * (1.0 - m / (scale * n)) + (x + 0.5) / scale - 0.5,
            Transform::PytorchHalfPixel if out > 1 => (x + 0.5) / scale - 0.5,
            Transform::PytorchHalfPixel => 0.0,
            Transform::Asymmetric => x / scale,
            Transform::AlignCorners if out > 1 => x * (n - 1.0) / (m - 1.0),
            Transform::AlignCorners => 0.0,
            Transform::TfHalfPixelForNn => (x + 0.5) / scale,
            Transform::TfCropAndResize if out > 1 => start * (n - 1.0) + x * (end - start) * (n - 1.0) / (m - 1.0),
            Transform::TfCropAndResize => 0.5 * (start + end) * (n - 1.0),
        }
    }
}

impl Nearest {
    /// The input position coordinate `x` rounds to (before clamping into the input).
    fn round(self, x: f32, shrinks: bool) -> i64 {
        let r = match self {
            Nearest::RoundPreferFloor if x == x.trunc() + 0.5 => x.floor(),
            Nearest::RoundPreferFloor | Nearest::RoundPreferCeil => x.round(),
            Nearest::Floor => x.floor(),
            Nearest::Ceil => x.ceil(),
            Nearest::Simple if shrinks => x.ceil(),
            Nearest::Simple => x.trunc(),
        };
        r as i64
    }
}

/// The two input cells around coordinate `c` of an axis of `n` cells (clamped into it) and
/// their weights, as onnxruntime takes them; a cell of weight 0 is left out, and past the last
/// cell the two are one.
fn linear_taps(c: f32, n: usize) -> Vec<(usize, f32)> {
    let c = c.clamp(0.0, (n - 1) as f32);
    let low = (c as usize).min(n - 1);
    let high = (low + 1).min(n - 1);
    if low == high {
        return vec![(low, 1.0)];
    }
    [(low, (c - high as f32).abs()), (high, (c - low as f32).abs())].into_iter().filter(|&(_, w)| w != 0.0).collect()
}

/// Per output, in row-major order: the input cells it weighs (flat indices) and their weights,
/// or `None` for an output outside the input (tf_crop_and_resize).
type Samples = Vec<Option<Vec<(usize, f64)>>>;

impl Resize {
    fn axes(&self, rank: usize) -> Result<Vec<usize>, String> {
        let axes: Vec<usize> = match &self.axes {
            None => (0..rank).collect(),
            Some(a) => a.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?,
        };
        if (1..axes.len()).any(|i| axes[..i].contains(&axes[i])) {
            return Err(format!("axes {axes:?} name an axis twice"));
        }
        Ok(axes)
    }

    /// Per axis of the input: its scale and the output's size, as onnxruntime computes them
    /// (in f32: a size from scales is `floor(scale * size)`, a scale from sizes their ratio).
    fn scales(&self, input: &[usize]) -> Result<(Vec<f32>, Vec<usize>), String> {
        let axes = self.axes(input.len())?;
        let given = match &self.target {
            Target::Scales(s) => s.len(),
            Target::Sizes(s, _) => s.len(),
        };
        if given != axes.len() {
            return Err(format!("{given} scales or sizes for the {} axes resized of the input {input:?}", axes.len()));
        }
        let (mut scales, mut out) = (vec![1.0f32; input.len()], input.to_vec());
        match &self.target {
            Target::Scales(s) => {
                for (&a, &s) in axes.iter().zip(s) {
                    if !(s > 0.0 && s.is_finite()) {
                        return Err(format!("scale {s} is not a positive number"));
                    }
                    (scales[a], out[a]) = (s, (s * input[a] as f32) as usize);
                }
            }
            Target::Sizes(sizes, policy) => {
                for (&a, &n) in axes.iter().zip(sizes) {
                    (scales[a], out[a]) = (n as f32 / input[a] as f32, n.max(0) as usize);
                }
                let chosen = axes.iter().map(|&a| scales[a]);
                let common = match policy {
                    Policy::Stretch => None,
                    Policy::NotLarger => chosen.reduce(f32::min),
                    Policy::NotSmaller => chosen.reduce(f32::max),
                };
                if let Some(s) = common {
                    for &a in &axes {
                        (scales[a], out[a]) = (s, (s * input[a] as f32).round() as usize);
                    }
                }
            }
        }
        if let Some(a) = (0..input.len()).find(|&a| out[a] == 0) {
            return Err(format!("resizing {input:?} to {out:?} empties axis {a}; empty tensors are not supported"));
        }
        Ok((scales, out))
    }

    /// Per input axis, tf_crop_and_resize's region (start, end); the whole axis otherwise.
    fn roi(&self, rank: usize) -> Result<Vec<(f32, f32)>, String> {
        let mut roi = vec![(0.0, 1.0); rank];
        if self.transform == Transform::TfCropAndResize {
            let axes = self.axes(rank)?;
            if self.roi.len() != 2 * axes.len() {
                return Err(format!("roi has {} values; tf_crop_and_resize needs a start and an end for each of the {} axes resized", self.roi.len(), axes.len()));
            }
            for (k, &a) in axes.iter().enumerate() {
                roi[a] = (self.roi[k], self.roi[axes.len() + k]);
            }
        }
        Ok(roi)
    }

    /// The output's shape and its samples: per axis, each output position's taps on that axis,
    /// then per output the product of its positions' taps.
    fn samples(&self, input: &[usize]) -> Result<(Vec<usize>, Samples), String> {
        let (scales, shape) = self.scales(input)?;
        let roi = self.roi(input.len())?;
        let lines: Vec<Vec<_>> = (0..input.len())
            .map(|a| {
                let n = input[a];
                let tap = |o: usize| {
                    if scales[a] == 1.0 {
                        return Some(vec![(o, 1.0)]);
                    }
                    let c = self.transform.source(o as f32, scales[a], n, shape[a], roi[a]);
                    if self.transform == Transform::TfCropAndResize && !(0.0..=(n - 1) as f32).contains(&c) {
                        return None;
                    }
                    Some(match self.mode {
                        Mode::Nearest(rule) => vec![(rule.round(c, scales[a] < 1.0).clamp(0, n as i64 - 1) as usize, 1.0)],
                        Mode::Linear => linear_taps(c, n),
                    })
                };
                (0..shape[a]).map(tap).collect()
            })
            .collect();
        let (in_strides, out_strides) = (strides(input), strides(&shape));
        let samples = (0..shape.iter().product())
            .map(|o| {
                let mut taps = vec![(0, 1.0)];
                for (d, line) in lines.iter().enumerate() {
                    let (on_axis, stride) = (line[(o / out_strides[d]) % shape[d]].as_ref()?, in_strides[d]);
                    taps = taps.iter().flat_map(|&(i, w)| on_axis.iter().map(move |&(j, v)| (i + j * stride, w * v as f64))).collect();
                }
                Some(taps)
            })
            .collect();
        Ok((shape, samples))
    }
}

/// The weights at scale `2^bits`, rounded so that they sum to exactly `2^bits` (one): each is
/// the step between the rounded running sums. Rounding each alone would scale an output by up
/// to `1 ± taps 2^-(bits+1)`; this way a region of equal values comes out exact, and the
/// running sums' errors (half a step at most, none at the end) telescope into at most half a
/// step per unit of difference between consecutive taps.
fn weights(taps: &[(usize, f64)], bits: u32) -> Vec<Coef> {
    let (mut sum, mut before) = (0.0, 0);
    taps.iter()
        .map(|&(_, w)| {
            sum += w;
            let upto = quantize(sum as f32, bits);
            Coef::Const(upto - std::mem::replace(&mut before, upto))
        })
        .collect()
}

impl Op for Resize {
    /// From the sizes alone, so that a hostile scale is refused before any allocation.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        self.roi(inputs[0].len())?;
        Ok(self.scales(inputs[0])?.1)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let (shape, samples) = self.samples(&x.shape).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let copy = |taps: &[(usize, f64)]| matches!(taps, [(_, w)] if *w == 1.0);
        let products: Vec<Dot> = samples
            .iter()
            .flatten()
            .filter(|taps| !copy(taps))
            .map(|taps| Dot { inputs: taps.iter().map(|&(i, _)| x.data[i].clone()).collect(), weights: weights(taps, bits), bias: Coef::Const(0) })
            .collect();
        let mut mixed = Vec::new().into_iter();
        if !products.is_empty() {
            let acc = arith.dot(products)?;
            mixed = arith.element(ElementOp { rescale: true, relu: false }, acc.into_iter().map(|a| (a, None)).collect())?.into_iter();
        }
        let outside = if samples.iter().any(Option::is_none) { Some(arith.constant(quantize(self.extrapolation, bits))?) } else { None };
        let out = samples
            .iter()
            .map(|sample| match sample {
                None => outside.clone().expect("made when an output lies outside"),
                Some(taps) if copy(taps) => x.data[taps[0].0].clone(),
                Some(_) => mixed.next().expect("one rescaled product per output that weighs several cells"),
            })
            .collect();
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let (shape, samples) = self.samples(&x.shape).map_err(Error::Shape)?;
        let value = |sample: &Option<Vec<(usize, f64)>>| match sample {
            None => self.extrapolation,
            Some(taps) => taps.iter().map(|&(i, w)| w * x.data[i] as f64).sum::<f64>() as f32,
        };
        Ok(Tensor::new(shape, samples.iter().map(value).collect()))
    }
}
