//! 2-D convolution (strides, padding, dilation, groups): one dot product per output over
//! the input cells its window covers (padding contributes nothing), then a rescale.

use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Debug)]
pub struct Conv {
    /// [out_channels][in_channels / group][kh][kw].
    weights: Constant,
    weight_shape: [usize; 4],
    /// The bias and, per output channel, the entry it adds (ONNX broadcasts B).
    bias: Option<(Constant, Vec<usize>)>,
    window: Window,
    group: usize,
    relu: bool,
}

/// A 2-D sliding window: kernel, strides, dilations and pads (top, left, bottom, right), or
/// pads that `auto_pad = SAME_UPPER | SAME_LOWER` derive from the input's size.
#[derive(Clone, Debug)]
pub struct Window {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    pub pads: [usize; 4],
    pub same: Option<Same>,
    /// Pooling's `ceil_mode`: a last, partial window where the padded input runs out.
    pub ceil: bool,
}

/// Where SAME padding puts the odd pad: at the end (`SAME_UPPER`) or at the beginning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Same {
    Upper,
    Lower,
}

impl Window {
    pub fn from_ctx(ctx: &NodeCtx, kernel: [usize; 2]) -> Result<Self, String> {
        let auto_pad = ctx.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
        let same = match auto_pad.as_str() {
            "NOTSET" | "VALID" => None,
            "SAME_UPPER" => Some(Same::Upper),
            "SAME_LOWER" => Some(Same::Lower),
            other => return Err(format!("auto_pad = {other} is not an ONNX padding mode")),
        };
        let pair = |name: &str, default: usize| -> Result<[usize; 2], String> {
            match ctx.ints(name)? {
                None => Ok([default; 2]),
                Some(v) if v.len() == 2 && v.iter().all(|x| *x >= 1) => Ok([v[0] as usize, v[1] as usize]),
                Some(v) => Err(format!("attribute '{name}' = {v:?} is not two positive integers (only 2-D is supported)")),
            }
        };
        let pads = match ctx.ints("pads")? {
            _ if auto_pad != "NOTSET" => [0; 4],
            None => [0; 4],
            Some(v) if v.len() == 4 && v.iter().all(|x| *x >= 0) => [v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize],
            Some(v) => Err(format!("attribute 'pads' = {v:?} is not four non-negative integers"))?,
        };
        Ok(Window { kernel, strides: pair("strides", 1)?, dilations: pair("dilations", 1)?, pads, same, ceil: ctx.int("ceil_mode", 0)? != 0 })
    }

    /// The pads for an input of `h x w`: the explicit ones, or SAME's, which make the output
    /// `ceil(size / stride)` long and split the padding evenly (the odd one where `same` says).
    pub fn pads(&self, h: usize, w: usize) -> [usize; 4] {
        let Some(same) = self.same else { return self.pads };
        let total = |size: usize, d: usize| {
            let span = self.dilations[d] * (self.kernel[d] - 1) + 1;
            ((size.div_ceil(self.strides[d]) - 1) * self.strides[d] + span).saturating_sub(size)
        };
        let split = |t: usize| if same == Same::Upper { (t / 2, t - t / 2) } else { (t - t / 2, t / 2) };
        let ((top, bottom), (left, right)) = (split(total(h, 0)), split(total(w, 1)));
        [top, left, bottom, right]
    }

    pub fn output_hw(&self, h: usize, w: usize) -> Result<[usize; 2], String> {
        let pads = self.pads(h, w);
        let out = |size: usize, d: usize| -> Result<usize, String> {
            let padded = size + pads[d] + pads[d + 2];
            let span = self.dilations[d] * (self.kernel[d] - 1) + 1;
            if padded < span {
                return Err(format!("the window ({span}) is larger than the padded input ({padded})"));
            }
            let stride = self.strides[d];
            if !self.ceil {
                return Ok((padded - span) / stride + 1);
            }
            // Rounded up, but a last window that would start past the input and its leading
            // padding is dropped, as onnxruntime does.
            let out = (padded - span).div_ceil(stride) + 1;
            Ok(if (out - 1) * stride >= size + pads[d] { out - 1 } else { out })
        };
        Ok([out(h, 0)?, out(w, 1)?])
    }

    /// How many positions of output (oy, ox)'s window lie in the padded input: the divisor of an
    /// average that counts the padding (a `ceil_mode` window may reach past it).
    pub fn padded_count(&self, h: usize, w: usize, oy: usize, ox: usize) -> usize {
        let pads = self.pads(h, w);
        let inside = |o: usize, d: usize, size: usize| {
            (0..self.kernel[d]).filter(|k| o * self.strides[d] + k * self.dilations[d] < size + pads[d] + pads[d + 2]).count()
        };
        inside(oy, 0, h) * inside(ox, 1, w)
    }

    /// The input positions (row, col) that output (oy, ox) covers, with the kernel offset
    /// (ky, kx) of each; positions in the padding are left out.
    pub fn taps(&self, h: usize, w: usize, oy: usize, ox: usize) -> Vec<(usize, usize, usize, usize)> {
        let pads = self.pads(h, w);
        let mut out = Vec::new();
        for ky in 0..self.kernel[0] {
            for kx in 0..self.kernel[1] {
                let y = (oy * self.strides[0] + ky * self.dilations[0]) as isize - pads[0] as isize;
                let x = (ox * self.strides[1] + kx * self.dilations[1]) as isize - pads[1] as isize;
                if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                    out.push((y as usize, x as usize, ky, kx));
                }
            }
        }
        out
    }
}

pub fn conv(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let w = ctx.require_constant(1, "W")?;
    if w.shape.len() != 4 {
        return Err(format!("only 2-D convolution is supported; W has shape {:?}", w.shape));
    }
    let weight_shape = [w.shape[0], w.shape[1], w.shape[2], w.shape[3]];
    if let Some(k) = ctx.ints("kernel_shape")? {
        if k != [w.shape[2] as i64, w.shape[3] as i64] {
            return Err(format!("kernel_shape {k:?} does not match W's shape {:?}", w.shape));
        }
    }
    let group = ctx.int("group", 1)?;
    if group < 1 || w.shape[0] % group as usize != 0 {
        return Err(format!("group = {group} does not divide the {} output channels", w.shape[0]));
    }
    let bias = match ctx.constant(2) {
        None => None,
        Some(b) => Some((ctx.param(b.clone())?, super::broadcast(&b.shape, &[w.shape[0]])?)),
    };
    Ok(Box::new(Conv {
        weights: ctx.param(w.clone())?,
        weight_shape,
        bias,
        window: Window::from_ctx(ctx, [w.shape[2], w.shape[3]])?,
        group: group as usize,
        relu: false,
    }))
}

/// What Conv and ConvTranspose lower to: per output, one dot product over its taps (input
/// index, weight index) plus the bias of its output channel, then one rescale (and ReLU when
/// fused).
struct Products<'a> {
    weights: &'a Constant,
    /// The bias and, per output channel, the entry it adds.
    bias: Option<&'a (Constant, Vec<usize>)>,
    relu: bool,
}

type Taps = Vec<(usize, usize)>;

impl Products<'_> {
    fn apply(&self, arith: &mut dyn Arith, x: &Tensor<Wire>, shape: Vec<usize>, outputs: &[(usize, Taps)]) -> Result<Tensor<Wire>, Error> {
        let bits = arith.shape().limb_bits;
        let products = outputs
            .iter()
            .map(|(oc, taps)| Dot {
                inputs: taps.iter().map(|&(i, _)| x.data[i].clone()).collect(),
                weights: taps.iter().map(|&(_, w)| self.weights.coef(w, bits)).collect(),
                bias: self.bias.map_or(Coef::Const(0), |(b, index)| b.coef(index[*oc], 2 * bits)),
            })
            .collect();
        let acc = arith.dot(products)?;
        let out = arith.element(ElementOp { rescale: true, relu: self.relu }, acc.into_iter().map(|a| (a, None)).collect())?;
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, x: &Tensor<f32>, shape: Vec<usize>, outputs: &[(usize, Taps)]) -> Tensor<f32> {
        let out = outputs.iter().map(|(oc, taps)| {
            let bias = self.bias.map_or(0.0, |(b, index)| b.values.data[index[*oc]] as f64);
            let y = taps.iter().fold(bias, |acc, &(i, w)| acc + x.data[i] as f64 * self.weights.values.data[w] as f64);
            (if self.relu { y.max(0.0) } else { y }) as f32
        });
        Tensor::new(shape, out.collect())
    }
}

impl Conv {
    fn products(&self) -> Products<'_> {
        Products { weights: &self.weights, bias: self.bias.as_ref(), relu: self.relu }
    }

    /// Calls `f` for every output in row-major order with its output channel and its taps:
    /// (input index, weight index) for each in-bounds input cell of its window.
    fn for_each_output(&self, input: &[usize], output: &[usize], mut f: impl FnMut(usize, &[(usize, usize)])) {
        let (h, w) = (input[2], input[3]);
        let [m, cg, kh, kw] = self.weight_shape;
        let per_group = m / self.group;
        let mut taps = Vec::new();
        for oc in 0..m {
            let g = oc / per_group;
            for oy in 0..output[2] {
                for ox in 0..output[3] {
                    taps.clear();
                    for ic in 0..cg {
                        for (y, xx, ky, kx) in self.window.taps(h, w, oy, ox) {
                            taps.push((((g * cg + ic) * h + y) * w + xx, ((oc * cg + ic) * kh + ky) * kw + kx));
                        }
                    }
                    f(oc, &taps);
                }
            }
        }
    }
}

impl Op for Conv {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        if s.len() != 4 || s[0] != 1 {
            return Err(format!("input must be [1, C, H, W], got {s:?}"));
        }
        if s[1] != self.weight_shape[1] * self.group {
            return Err(format!("input has {} channels; W expects {} x group {}", s[1], self.weight_shape[1], self.group));
        }
        let [oh, ow] = self.window.output_hw(s[2], s[3])?;
        Ok(vec![1, self.weight_shape[0], oh, ow])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let mut outputs = Vec::new();
        self.for_each_output(&inputs[0].shape, &shape, |oc, taps| outputs.push((oc, taps.to_vec())));
        self.products().apply(arith, inputs[0], shape, &outputs)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let mut outputs = Vec::new();
        self.for_each_output(&inputs[0].shape, &shape, |oc, taps| outputs.push((oc, taps.to_vec())));
        Ok(self.products().eval_float(inputs[0], shape, &outputs))
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }
}

/// 2-D transposed convolution (strides, pads, dilations, output padding; one group): each input
/// cell spreads its kernel over the output, so an output is one dot product over the input cells
/// whose spread reaches it, then a rescale, as for Conv.
#[derive(Debug)]
pub struct ConvTranspose {
    /// [in_channels][out_channels][kh][kw].
    weights: Constant,
    weight_shape: [usize; 4],
    /// The bias and, per output channel, its entry (the channel itself).
    bias: Option<(Constant, Vec<usize>)>,
    kernel: [usize; 2],
    strides: [usize; 2],
    dilations: [usize; 2],
    /// Top, left, bottom, right.
    pads: [usize; 4],
    output_padding: [usize; 2],
    relu: bool,
}

pub fn conv_transpose(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let w = ctx.require_constant(1, "W")?;
    if w.shape.len() != 4 {
        return Err(format!("only 2-D transposed convolution is supported; W has shape {:?}", w.shape));
    }
    if ctx.int("group", 1)? != 1 {
        return Err("group > 1 is not supported".into());
    }
    if ctx.ints("output_shape")?.is_some() {
        return Err("output_shape is not supported; export with pads and output_padding".into());
    }
    // The window rules (strides, dilations, pads, ceil_mode) are Conv's; SAME padding is not.
    let window = Window::from_ctx(ctx, [w.shape[2], w.shape[3]])?;
    if window.same.is_some() {
        return Err("auto_pad = SAME_UPPER or SAME_LOWER is not supported for ConvTranspose; export with explicit pads".into());
    }
    let output_padding = match ctx.ints("output_padding")? {
        None => [0, 0],
        Some(v) if v.len() == 2 && v.iter().all(|x| *x >= 0) => [v[0] as usize, v[1] as usize],
        Some(v) => return Err(format!("attribute 'output_padding' = {v:?} is not two non-negative integers")),
    };
    let bias = match ctx.constant(2) {
        Some(b) if b.len() != w.shape[1] => return Err(format!("B has {} entries for {} output channels", b.len(), w.shape[1])),
        Some(b) => Some((ctx.param(b.clone())?, (0..w.shape[1]).collect())),
        None => None,
    };
    Ok(Box::new(ConvTranspose {
        weights: ctx.param(w.clone())?,
        weight_shape: [w.shape[0], w.shape[1], w.shape[2], w.shape[3]],
        bias,
        kernel: window.kernel,
        strides: window.strides,
        dilations: window.dilations,
        pads: window.pads,
        output_padding,
        relu: false,
    }))
}

impl ConvTranspose {
    fn products(&self) -> Products<'_> {
        Products { weights: &self.weights, bias: self.bias.as_ref(), relu: self.relu }
    }

    fn output_hw(&self, h: usize, w: usize) -> Result<[usize; 2], String> {
        let out = |size: usize, d: usize| -> Result<usize, String> {
            let full = self.strides[d] * (size - 1) + self.output_padding[d] + self.dilations[d] * (self.kernel[d] - 1) + 1;
            full.checked_sub(self.pads[d] + self.pads[d + 2]).filter(|&n| n > 0).ok_or_else(|| format!("the pads {:?} leave no output", self.pads))
        };
        Ok([out(h, 0)?, out(w, 1)?])
    }

    /// Calls `f` for every output in row-major order with its output channel and its taps
    /// (input index, weight index).
    fn for_each_output(&self, input: &[usize], output: &[usize], mut f: impl FnMut(usize, &[(usize, usize)])) {
        let (h, w) = (input[2], input[3]);
        let [ci, co, kh, kw] = self.weight_shape;
        let mut taps = Vec::new();
        for oc in 0..co {
            for oy in 0..output[2] {
                for ox in 0..output[3] {
                    taps.clear();
                    for ky in 0..kh {
                        // oy = iy * stride + ky * dilation - pad_top.
                        let Some(ny) = (oy + self.pads[0]).checked_sub(ky * self.dilations[0]).filter(|n| n % self.strides[0] == 0) else { continue };
                        let iy = ny / self.strides[0];
                        if iy >= h {
                            continue;
                        }
                        for kx in 0..kw {
                            let Some(nx) = (ox + self.pads[1]).checked_sub(kx * self.dilations[1]).filter(|n| n % self.strides[1] == 0) else { continue };
                            let ix = nx / self.strides[1];
                            if ix >= w {
                                continue;
                            }
                            for ic in 0..ci {
                                taps.push(((ic * h + iy) * w + ix, ((ic * co + oc) * kh + ky) * kw + kx));
                            }
                        }
                    }
                    f(oc, &taps);
                }
            }
        }
    }
}

impl Op for ConvTranspose {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        if s.len() != 4 || s[0] != 1 {
            return Err(format!("input must be [1, C, H, W], got {s:?}"));
        }
        if s[1] != self.weight_shape[0] {
            return Err(format!("input has {} channels; W expects {}", s[1], self.weight_shape[0]));
        }
        let [oh, ow] = self.output_hw(s[2], s[3])?;
        Ok(vec![1, self.weight_shape[1], oh, ow])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let mut outputs = Vec::new();
        self.for_each_output(&inputs[0].shape, &shape, |oc, taps| outputs.push((oc, taps.to_vec())));
        self.products().apply(arith, inputs[0], shape, &outputs)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let mut outputs = Vec::new();
        self.for_each_output(&inputs[0].shape, &shape, |oc, taps| outputs.push((oc, taps.to_vec())));
        Ok(self.products().eval_float(inputs[0], shape, &outputs))
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }
}
