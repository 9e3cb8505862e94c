//! Convolution and transposed convolution over any number of spatial axes (1-D for audio and
//! time series, 2-D for images, 3-D for volumes and video), with strides, padding, dilation and
//! groups: one dot product per output over the input cells its window covers (padding
//! contributes nothing), then a rescale. [`Window`], the sliding window, is pooling's too.

use super::pool::{maxima, pooled_shape, windows};
use super::{Constant, Epilogue, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;

#[derive(Debug)]
pub struct Conv {
    /// [out_channels][in_channels / group][k_1]..[k_n].
    weights: Constant,
    weight_shape: Vec<usize>,
    /// The bias and, per output channel, the entry it adds (ONNX broadcasts B).
    bias: Option<(Constant, Vec<usize>)>,
    window: Window,
    group: usize,
    relu: bool,
    /// A MaxPool taken over (see [`Epilogue::MaxPool`]).
    pool: Option<Window>,
    /// The output is the sums (or a pool's maxima of them) before the rescale, which the
    /// lookups reading it take over.
    deferred: bool,
}

/// A sliding window over the spatial axes of an [N, C, D_1, .., D_n] input: per axis a kernel,
/// a stride and a dilation; pads as ONNX lists them (every axis's beginning, then every axis's
/// end), or pads that `auto_pad = SAME_UPPER | SAME_LOWER` derive from the input's size.
#[derive(Clone, Debug)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads: Vec<usize>,
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
    /// The window of a node whose kernel is `kernel` (one size per spatial axis): strides and
    /// dilations have one entry per axis, pads two.
    pub fn from_ctx(ctx: &NodeCtx, kernel: Vec<usize>) -> Result<Self, String> {
        let rank = kernel.len();
        let auto_pad = ctx.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
        let same = match auto_pad.as_str() {
            "NOTSET" | "VALID" => None,
            "SAME_UPPER" => Some(Same::Upper),
            "SAME_LOWER" => Some(Same::Lower),
            other => return Err(format!("auto_pad = {other} is not an ONNX padding mode")),
        };
        let per_axis = |name: &str| -> Result<Vec<usize>, String> {
            match ctx.ints(name)? {
                None => Ok(vec![1; rank]),
                Some(v) if v.len() == rank && v.iter().all(|x| *x >= 1) => Ok(v.iter().map(|x| *x as usize).collect()),
                Some(v) => Err(format!("attribute '{name}' = {v:?} needs one positive integer per spatial axis of the {rank}-D kernel {kernel:?}")),
            }
        };
        let pads = match ctx.ints("pads")? {
            _ if auto_pad != "NOTSET" => vec![0; 2 * rank],
            None => vec![0; 2 * rank],
            Some(v) if v.len() == 2 * rank && v.iter().all(|x| *x >= 0) => v.iter().map(|x| *x as usize).collect(),
            Some(v) => {
                Err(format!("attribute 'pads' = {v:?} needs non-negative integers, every spatial axis's beginning then every one's end, for the {rank}-D kernel {kernel:?}"))?
            }
        };
        Ok(Window { strides: per_axis("strides")?, dilations: per_axis("dilations")?, kernel, pads, same, ceil: ctx.int("ceil_mode", 0)? != 0 })
    }

    /// How far the window reaches along axis `d`: its kernel's extent with dilation.
    fn span(&self, d: usize) -> usize {
        self.dilations[d] * (self.kernel[d] - 1) + 1
    }

    /// The pads (beginnings, then ends) for an input of spatial sizes `input`: the explicit
    /// ones, or SAME's, which make each output `ceil(size / stride)` long and split the padding
    /// evenly (the odd one where `same` says).
    pub fn pads(&self, input: &[usize]) -> Vec<usize> {
        let Some(same) = self.same else { return self.pads.clone() };
        let (begin, end): (Vec<usize>, Vec<usize>) = input
            .iter()
            .enumerate()
            .map(|(d, &size)| {
                let total = ((size.div_ceil(self.strides[d]) - 1) * self.strides[d] + self.span(d)).saturating_sub(size);
                if same == Same::Upper {
                    (total / 2, total - total / 2)
                } else {
                    (total - total / 2, total / 2)
                }
            })
            .unzip();
        [begin, end].concat()
    }

    /// The output's spatial sizes for an input of spatial sizes `input`.
    pub fn output_size(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let pads = self.pads(input);
        let rank = input.len();
        let out = |d: usize| -> Result<usize, String> {
            let padded = input[d] + pads[d] + pads[rank + d];
            let span = self.span(d);
            if padded < span {
                return Err(format!("the window ({span}) is larger than the padded input ({padded}) along spatial axis {d}"));
            }
            let stride = self.strides[d];
            if !self.ceil {
                return Ok((padded - span) / stride + 1);
            }
            // Rounded up, but a last window that would start past the input and its leading
            // padding is dropped, as onnxruntime does.
            let out = (padded - span).div_ceil(stride) + 1;
            Ok(if (out - 1) * stride >= input[d] + pads[d] { out - 1 } else { out })
        };
        (0..rank).map(out).collect()
    }

    /// Per output position (spatial sizes `output`), in row-major order, the taps of its window
    /// over an input of spatial sizes `input`: (input position, kernel offset), both flat in
    /// row-major order, in the kernel's row-major order; positions in the padding are left out.
    pub fn taps(&self, input: &[usize], output: &[usize]) -> Vec<Vec<(usize, usize)>> {
        let pads = self.pads(input);
        let axes = (0..input.len())
            .map(|d| {
                let along = |o: usize| -> Vec<(usize, usize)> {
                    (0..self.kernel[d]).filter_map(|k| (o * self.strides[d] + k * self.dilations[d]).checked_sub(pads[d]).filter(|&i| i < input[d]).map(|i| (i, k))).collect()
                };
                (0..output[d]).map(along).collect()
            })
            .collect();
        taps(input, &self.kernel, axes)
    }

    /// Per output position, in row-major order, how many positions of its window lie in the
    /// padded input: the divisor of an average that counts the padding (a `ceil_mode` window may
    /// reach past it).
    pub fn padded_counts(&self, input: &[usize], output: &[usize]) -> Vec<usize> {
        let pads = self.pads(input);
        let rank = input.len();
        let mut counts = vec![1];
        for d in 0..rank {
            let padded = input[d] + pads[d] + pads[rank + d];
            let inside: Vec<usize> = (0..output[d]).map(|o| (0..self.kernel[d]).filter(|k| o * self.strides[d] + k * self.dilations[d] < padded).count()).collect();
            counts = counts.iter().flat_map(|c| inside.iter().map(move |n| c * n)).collect();
        }
        counts
    }
}

/// Per output position, in row-major order, its taps, given `axes[d][o]`: the (input
/// coordinate, kernel coordinate) pairs of output coordinate `o` along spatial axis `d`, by
/// kernel coordinate. A position's taps are the products of its pairs over the axes, flat in
/// row-major order over `input` and `kernel`, in the kernel's row-major order.
fn taps(input: &[usize], kernel: &[usize], axes: Vec<Vec<Vec<(usize, usize)>>>) -> Vec<Vec<(usize, usize)>> {
    let mut out = vec![vec![(0, 0)]];
    for (d, along) in axes.iter().enumerate() {
        out = out
            .iter()
            .flat_map(|prefix| along.iter().map(move |pairs| prefix.iter().flat_map(|&(i, k)| pairs.iter().map(move |&(a, b)| (i * input[d] + a, k * kernel[d] + b))).collect()))
            .collect();
    }
    out
}

/// The kernel of a convolution's W, [channels][channels][k_1]..[k_n]: its spatial sizes, which
/// the node's `kernel_shape`, when given, must repeat.
fn kernel_of(ctx: &NodeCtx, w: &[usize]) -> Result<Vec<usize>, String> {
    if w.len() < 3 || w.contains(&0) {
        return Err(format!("W has shape {w:?}; it must be [output channels, input channels, k_1, .., k_n], at least one spatial axis, none empty"));
    }
    let kernel = w[2..].to_vec();
    if let Some(k) = ctx.ints("kernel_shape")? {
        if !k.iter().map(|&v| v as usize).eq(kernel.iter().copied()) {
            return Err(format!("kernel_shape {k:?} disagrees with W's shape {w:?}, whose kernel is {kernel:?}; export with kernel_shape = {kernel:?} or without it"));
        }
    }
    Ok(kernel)
}

/// A window op's input must be [N, C] then one size per axis of its kernel.
pub fn check_rank(s: &[usize], kernel: &[usize]) -> Result<(), String> {
    if s.len() != kernel.len() + 2 {
        return Err(format!("input must be [N, C] then one size per axis of the {}-D kernel {kernel:?}, got {s:?}", kernel.len()));
    }
    Ok(())
}

pub fn conv(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let w = ctx.require_constant(1, "W")?;
    let kernel = kernel_of(ctx, &w.shape)?;
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
        weight_shape: w.shape.clone(),
        bias,
        window: Window::from_ctx(ctx, kernel)?,
        group: group as usize,
        relu: false,
        pool: None,
        deferred: false,
    }))
}

/// What Conv and ConvTranspose lower to: per output, one dot product over its taps (input
/// index, weight index) plus the bias of its output channel, then one rescale (and ReLU when
/// fused). A fused max pool takes each window's largest dot product before the rescale: the
/// rescale and the ReLU are monotone, so the result is the same, and only one output in a
/// window pays for a rescale (on a 2 x 2 pool, a quarter of them).
struct Products<'a> {
    weights: &'a Constant,
    /// The bias and, per output channel, the entry it adds.
    bias: Option<&'a (Constant, Vec<usize>)>,
    relu: bool,
    pool: Option<&'a Window>,
    deferred: bool,
}

type Taps = Vec<(usize, usize)>;

impl Products<'_> {
    fn apply(&self, arith: &mut dyn Arith, x: &Tensor<Wire>, shape: Vec<usize>, outputs: &[(usize, Taps)]) -> Result<Tensor<Wire>, Error> {
        let bits = arith.shape().scale_bits;
        let products = outputs
            .iter()
            .map(|(oc, taps)| Dot {
                inputs: taps.iter().map(|&(i, _)| x.data[i].clone()).collect(),
                weights: taps.iter().map(|&(_, w)| self.weights.coef(w, bits)).collect(),
                bias: self.bias.map_or(Coef::Const(0), |(b, index)| b.coef(index[*oc], 2 * bits)),
            })
            .collect();
        let acc = arith.dot(products)?;
        let (shape, acc) = match self.pool {
            None => (shape, acc),
            Some(window) => {
                let pooled = pooled_shape(&shape, Some(window)).map_err(Error::Shape)?;
                let groups = windows(window, &shape, &pooled).into_iter().map(|cells| cells.into_iter().map(|i| acc[i].clone()).collect()).collect();
                (pooled, maxima(arith, groups)?)
            }
        };
        Ok(Tensor::new(shape, super::rescaled(arith, acc, self.relu, self.deferred)?))
    }

    fn eval_float(&self, x: &Tensor<f32>, shape: Vec<usize>, outputs: &[(usize, Taps)]) -> Tensor<f32> {
        let out = outputs.iter().map(|(oc, taps)| {
            let bias = self.bias.map_or(0.0, |(b, index)| b.values.data[index[*oc]] as f64);
            let y = taps.iter().fold(bias, |acc, &(i, w)| acc + x.data[i] as f64 * self.weights.values.data[w] as f64);
            (if self.relu { y.max(0.0) } else { y }) as f32
        });
        let out: Vec<f32> = out.collect();
        match self.pool {
            None => Tensor::new(shape, out),
            Some(window) => {
                let pooled = pooled_shape(&shape, Some(window)).expect("the pooled shape was checked when the pool was taken over");
                let maxima = windows(window, &shape, &pooled).iter().map(|cells| cells.iter().map(|&i| out[i]).fold(f32::NEG_INFINITY, f32::max)).collect();
                Tensor::new(pooled, maxima)
            }
        }
    }
}

impl Conv {
    fn products(&self) -> Products<'_> {
        Products { weights: &self.weights, bias: self.bias.as_ref(), relu: self.relu, pool: self.pool.as_ref(), deferred: self.deferred }
    }

    /// The convolution's own output shape, before a pool taken over.
    fn conv_shape(&self, s: &[usize]) -> Result<Vec<usize>, String> {
        check_rank(s, &self.window.kernel)?;
        if s[1] != self.weight_shape[1] * self.group {
            return Err(format!("input has {} channels; W expects {} x group {}", s[1], self.weight_shape[1], self.group));
        }
        Ok([vec![s[0], self.weight_shape[0]], self.window.output_size(&s[2..])?].concat())
    }

    /// Every output in row-major order with its output channel and its taps: (input index,
    /// weight index) for each in-bounds input cell of its window, input channel by input channel.
    fn outputs(&self, input: &[usize], output: &[usize]) -> Vec<(usize, Taps)> {
        let (m, cg) = (self.weight_shape[0], self.weight_shape[1]);
        let (size, kernel): (usize, usize) = (input[2..].iter().product(), self.window.kernel.iter().product());
        let windows = self.window.taps(&input[2..], &output[2..]);
        let per_group = m / self.group;
        let mut outputs = Vec::with_capacity(output.iter().product());
        for n in 0..input[0] {
            for oc in 0..m {
                // The first input channel of the output channel's group, in this batch entry.
                let first = n * input[1] + oc / per_group * cg;
                let taps = |window: &Vec<(usize, usize)>| (0..cg).flat_map(|ic| window.iter().map(move |&(i, k)| ((first + ic) * size + i, (oc * cg + ic) * kernel + k))).collect();
                outputs.extend(windows.iter().map(|window| (oc, taps(window))));
            }
        }
        outputs
    }
}

impl Op for Conv {
    fn deferred_rescale(&mut self) -> Option<&mut bool> {
        (!self.relu).then_some(&mut self.deferred)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let shape = self.conv_shape(inputs[0])?;
        match &self.pool {
            None => Ok(shape),
            Some(window) => pooled_shape(&shape, Some(window)),
        }
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.conv_shape(&inputs[0].shape).map_err(Error::Shape)?;
        let outputs = self.outputs(&inputs[0].shape, &shape);
        self.products().apply(arith, inputs[0], shape, &outputs)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shape = self.conv_shape(&inputs[0].shape).map_err(Error::Shape)?;
        let outputs = self.outputs(&inputs[0].shape, &shape);
        Ok(self.products().eval_float(inputs[0], shape, &outputs))
    }

    fn checks_products(&self) -> bool {
        self.pool.is_some()
    }

    /// ReLU; a channel affine before any pool: output channel `c`'s weights times `scale[c]`
    /// (after a pool it would not commute with the maximum where a scale is negative); a max
    /// pool over an output of spatial axes as many as the kernel's.
    fn absorb(&mut self, epilogue: &Epilogue, output: &[usize]) -> bool {
        match epilogue {
            Epilogue::Relu => self.relu = true,
            Epilogue::MaxPool(window) => {
                if self.pool.is_some() || pooled_shape(output, Some(window)).is_err() {
                    return false;
                }
                self.pool = Some((*window).clone());
            }
            Epilogue::ChannelAffine { scale, shift } => {
                let channels = self.weight_shape[0];
                if shift.values.len() != channels || scale.values.len() != channels || self.relu || self.pool.is_some() {
                    return false;
                }
                let per = self.weights.values.len() / channels;
                self.weights.values.data.iter_mut().enumerate().for_each(|(i, w)| *w *= scale.values.data[i / per]);
                let old = |c: usize| self.bias.as_ref().map_or(0.0, |(b, index)| b.values.data[index[c]]);
                let bias = Epilogue::bias(scale, shift, old);
                self.bias = Some((bias, (0..channels).collect()));
            }
            Epilogue::Softmax(_) | Epilogue::Bias(_) => return false,
        }
        true
    }
}

/// Transposed convolution over any number of spatial axes (strides, pads, dilations, groups,
/// output padding, an output shape or SAME padding): each input cell spreads its kernel over the
/// output, so an output is one dot product over the input cells whose spread reaches it, then a
/// rescale, as for Conv.
#[derive(Debug)]
pub struct ConvTranspose {
    /// [in_channels][out_channels / group][k_1]..[k_n].
    weights: Constant,
    weight_shape: Vec<usize>,
    /// The bias and, per output channel, its entry (the channel itself).
    bias: Option<(Constant, Vec<usize>)>,
    group: usize,
    /// Conv's window read backwards: its pads crop the full output (every input cell's spread,
    /// then `output_padding`) rather than pad the input.
    window: Window,
    output_padding: Vec<usize>,
    /// The output's spatial sizes when the node fixes them (`output_shape`): the crop follows.
    output_size: Option<Vec<usize>>,
    relu: bool,
    /// As [`Conv`]'s.
    deferred: bool,
}

pub fn conv_transpose(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let w = ctx.require_constant(1, "W")?;
    let kernel = kernel_of(ctx, &w.shape)?;
    let rank = kernel.len();
    let group = ctx.int("group", 1)?;
    if group < 1 || w.shape[0] % group as usize != 0 {
        return Err(format!("group = {group} does not divide the {} input channels", w.shape[0]));
    }
    let window = Window::from_ctx(ctx, kernel)?;
    let output_padding = match ctx.ints("output_padding")? {
        None => vec![0; rank],
        Some(v) if v.len() == rank && v.iter().all(|x| *x >= 0) => v.iter().map(|x| *x as usize).collect(),
        Some(v) => return Err(format!("attribute 'output_padding' = {v:?} needs one non-negative integer per spatial axis of the {rank}-D kernel {:?}", &w.shape[2..])),
    };
    // The spatial sizes, or (as onnxruntime also reads it) the whole shape, N and C first.
    let output_size = match ctx.ints("output_shape")? {
        None => None,
        Some(v) if (v.len() == rank || v.len() == rank + 2) && v.iter().all(|x| *x >= 1) => Some(v[v.len() - rank..].iter().map(|x| *x as usize).collect()),
        Some(v) => {
            return Err(format!(
                "attribute 'output_shape' = {v:?} needs one positive integer per spatial axis of the {rank}-D kernel {:?} (or the whole shape, N and C first)",
                &w.shape[2..]
            ))
        }
    };
    if output_size.is_some() && window.pads.iter().any(|&p| p > 0) {
        return Err("output_shape and pads are both given, and ONNX derives the pads from output_shape (onnx's reference keeps both); export one of them".into());
    }
    let channels = w.shape[1] * group as usize;
    let bias = match ctx.constant(2) {
        Some(b) if b.len() != channels => return Err(format!("B has {} entries for {channels} output channels", b.len())),
        Some(b) => Some((ctx.param(b.clone())?, (0..channels).collect())),
        None => None,
    };
    Ok(Box::new(ConvTranspose {
        weights: ctx.param(w.clone())?,
        weight_shape: w.shape.clone(),
        bias,
        group: group as usize,
        window,
        output_padding,
        output_size,
        relu: false,
        deferred: false,
    }))
}

impl ConvTranspose {
    fn products(&self) -> Products<'_> {
        Products { weights: &self.weights, bias: self.bias.as_ref(), relu: self.relu, pool: None, deferred: self.deferred }
    }

    /// Per spatial axis of an input of spatial sizes `input`, the output's size and where it
    /// begins in the full output (every input cell's spread, then `output_padding`). Explicit
    /// pads crop the full output; `output_shape`, or SAME's `input * stride`, fix the size and
    /// the crop follows, the odd cell cropped at the end for SAME_UPPER and at the beginning
    /// otherwise, as ONNX says. A size beyond the full output crops nothing and goes on past its
    /// end, where only the bias reaches, as onnxruntime does.
    fn placement(&self, input: &[usize]) -> Result<Vec<(usize, usize)>, String> {
        let w = &self.window;
        let rank = input.len();
        let axis = |d: usize| -> Result<(usize, usize), String> {
            let full = w.strides[d] * (input[d] - 1) + self.output_padding[d] + w.span(d);
            let size = match (&self.output_size, w.same) {
                (Some(sizes), _) => sizes[d],
                (None, Some(_)) => input[d] * w.strides[d],
                (None, None) => {
                    let size = full.checked_sub(w.pads[d] + w.pads[rank + d]).filter(|&n| n > 0);
                    return size.map(|n| (n, w.pads[d])).ok_or_else(|| format!("the pads {:?} leave no output along spatial axis {d} (the full output is {full} long)", w.pads));
                }
            };
            let crop = full.saturating_sub(size);
            Ok((size, if w.same == Some(Same::Upper) { crop / 2 } else { crop - crop / 2 }))
        };
        (0..rank).map(axis).collect()
    }

    /// Every output in row-major order with its output channel and its taps (input index,
    /// weight index), kernel offset by kernel offset.
    fn outputs(&self, input: &[usize]) -> Result<Vec<(usize, Taps)>, Error> {
        let w = &self.window;
        let placement = self.placement(&input[2..]).map_err(Error::Shape)?;
        // Output o along axis d is cell o + begin of the full output, i * stride + k * dilation.
        let axes = placement
            .iter()
            .enumerate()
            .map(|(d, &(size, begin))| {
                let spread =
                    |o: usize, k: usize| (o + begin).checked_sub(k * w.dilations[d]).filter(|n| n % w.strides[d] == 0).map(|n| n / w.strides[d]).filter(|&i| i < input[2 + d]);
                (0..size).map(|o| (0..w.kernel[d]).filter_map(|k| spread(o, k).map(|i| (i, k))).collect()).collect()
            })
            .collect();
        let windows = taps(&input[2..], &w.kernel, axes);
        let (ci, per_group) = (self.weight_shape[0], self.weight_shape[1]);
        let (size, kernel): (usize, usize) = (input[2..].iter().product(), w.kernel.iter().product());
        let group_inputs = ci / self.group;
        let mut outputs = Vec::new();
        for n in 0..input[0] {
            for oc in 0..per_group * self.group {
                let (g, ocg) = (oc / per_group, oc % per_group);
                let channels = g * group_inputs..(g + 1) * group_inputs;
                let taps = |window: &Vec<(usize, usize)>| {
                    window.iter().flat_map(|&(i, k)| channels.clone().map(move |ic| ((n * ci + ic) * size + i, (ic * per_group + ocg) * kernel + k))).collect()
                };
                outputs.extend(windows.iter().map(|window| (oc, taps(window))));
            }
        }
        Ok(outputs)
    }
}

impl Op for ConvTranspose {
    fn deferred_rescale(&mut self) -> Option<&mut bool> {
        (!self.relu).then_some(&mut self.deferred)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        check_rank(s, &self.window.kernel)?;
        if s[1] != self.weight_shape[0] {
            return Err(format!("input has {} channels; W expects {}", s[1], self.weight_shape[0]));
        }
        let sizes = self.placement(&s[2..])?.into_iter().map(|(size, _)| size);
        Ok([s[0], self.weight_shape[1] * self.group].into_iter().chain(sizes).collect())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let outputs = self.outputs(&inputs[0].shape)?;
        self.products().apply(arith, inputs[0], shape, &outputs)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let outputs = self.outputs(&inputs[0].shape)?;
        Ok(self.products().eval_float(inputs[0], shape, &outputs))
    }

    fn absorb(&mut self, epilogue: &Epilogue, _: &[usize]) -> bool {
        match epilogue {
            Epilogue::Relu => self.relu = true,
            Epilogue::ChannelAffine { .. } | Epilogue::MaxPool(_) | Epilogue::Softmax(_) | Epilogue::Bias(_) => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::{known, Evaluate};
    use crate::graph::{Attribute, RawNode};
    use crate::ops::quantize;
    use std::cell::Cell;
    use std::collections::HashMap;
    use zkinfer_circuits::gadgets::Shape;

    /// Multiples of 1/8 in [-0.75, 0.75]: exact at scale 2^8, and so are their products at
    /// 2^16, so the quantized convolution must equal the float one exactly.
    fn eighths(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7 + seed) % 13) as f32 / 8.0 - 0.75).collect()
    }

    fn ints(v: &[i64]) -> Attribute {
        Attribute::Ints(v.to_vec())
    }

    /// Conv(x, W, B) built as the compiler builds it.
    fn conv_node(w: Tensor<f32>, b: &[f32], attributes: Vec<(&str, Attribute)>) -> Result<Box<dyn Op>, String> {
        build(conv, w, b, attributes)
    }

    fn build(op: fn(&NodeCtx) -> Result<Box<dyn Op>, String>, w: Tensor<f32>, b: &[f32], attributes: Vec<(&str, Attribute)>) -> Result<Box<dyn Op>, String> {
        let node = RawNode {
            name: "node".into(),
            op_type: "Conv".into(),
            inputs: vec!["x".into(), "w".into(), "b".into()],
            outputs: vec!["y".into()],
            attributes: attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        };
        let constants = HashMap::from([("w".to_string(), w), ("b".to_string(), Tensor::new(vec![b.len()], b.to_vec()))]);
        op(&NodeCtx { node: &node, constants: &constants, scale_bits: 8, params: &Cell::new(0), booleans: &Default::default() })
    }

    /// The op's shape, its floats, and its quantized outputs (through `Evaluate`, the witness's
    /// arithmetic) against a reference.
    fn check(op: &dyn Op, x: &Tensor<f32>, shape: &[usize], reference: &[f64]) {
        assert_eq!(op.output_shape(&[&x.shape]).unwrap(), shape);
        assert_eq!(reference.len(), shape.iter().product::<usize>());
        let float = op.eval_float(&[x]).unwrap();
        for (i, (f, r)) in float.data.iter().zip(reference).enumerate() {
            assert!((*f as f64 - r).abs() < 1e-5, "output {i}: float {f}, reference {r}");
        }
        let mut arith = Evaluate::new(
            Shape { width: 8, scale_bits: 8, limb_bits: 8, limbs: 3, input_limbs: 3, element_limbs: Shape::only(3), private_params: false, products: false, functions: 0 },
            &[],
        );
        let q = op.apply(&mut arith, &[&x.map(|v| Wire::known(quantize(*v, 8)))]).unwrap();
        assert_eq!(q.shape, shape);
        for (i, (w, r)) in q.data.iter().zip(reference).enumerate() {
            assert_eq!(known(w), (r * 256.0).round() as i64, "output {i}: quantized {}, reference {r}", known(w));
        }
    }

    #[test]
    fn a_1d_conv_with_groups_strides_dilations_and_pads_matches_a_naive_one() {
        // Batch 2, 4 channels in 2 groups, length 9; kernel 3, stride 2, dilation 2, pads 2 and 1.
        let (x, w, b) = (eighths(2 * 4 * 9, 1), eighths(4 * 2 * 3, 5), [0.25, -0.5, 0.125, 0.0]);
        let mut reference = Vec::new();
        for n in 0..2 {
            for oc in 0..4 {
                for o in 0..4 {
                    let mut y = b[oc] as f64;
                    for ic in 0..2 {
                        for k in 0..3 {
                            let p = (o * 2 + k * 2) as isize - 2;
                            if (0..9).contains(&p) {
                                y += x[(n * 4 + oc / 2 * 2 + ic) * 9 + p as usize] as f64 * w[(oc * 2 + ic) * 3 + k] as f64;
                            }
                        }
                    }
                    reference.push(y);
                }
            }
        }
        let attributes = vec![("group", Attribute::Int(2)), ("strides", ints(&[2])), ("dilations", ints(&[2])), ("pads", ints(&[2, 1]))];
        let op = conv_node(Tensor::new(vec![4, 2, 3], w), &b, attributes).unwrap();
        check(op.as_ref(), &Tensor::new(vec![2, 4, 9], x), &[2, 4, 4], &reference);
    }

    #[test]
    fn a_3d_conv_with_strides_dilations_and_asymmetric_pads_matches_a_naive_one() {
        // 2 channels of 4 x 5 x 3 to 3; kernel 2 x 3 x 2, strides 1, 2, 1, dilations 2, 1, 1,
        // pads (1, 0, 1) at the beginning and (0, 1, 1) at the end.
        let (x, w, b) = (eighths(2 * 4 * 5 * 3, 3), eighths(3 * 2 * 2 * 3 * 2, 2), [0.5, -0.25, 0.0]);
        let mut reference = Vec::new();
        for oc in 0..3 {
            for (oz, oy, ox) in (0..3).flat_map(|z| (0..2).flat_map(move |y| (0..4).map(move |x| (z, y, x)))) {
                let mut y = b[oc] as f64;
                for ic in 0..2 {
                    for (kz, ky, kx) in (0..2).flat_map(|z| (0..3).flat_map(move |y| (0..2).map(move |x| (z, y, x)))) {
                        let (pz, py, px) = ((oz + kz * 2) as isize - 1, (oy * 2 + ky) as isize, (ox + kx) as isize - 1);
                        if (0..4).contains(&pz) && (0..5).contains(&py) && (0..3).contains(&px) {
                            let i = ((ic * 4 + pz as usize) * 5 + py as usize) * 3 + px as usize;
                            y += x[i] as f64 * w[(((oc * 2 + ic) * 2 + kz) * 3 + ky) * 2 + kx] as f64;
                        }
                    }
                }
                reference.push(y);
            }
        }
        let attributes = vec![("kernel_shape", ints(&[2, 3, 2])), ("strides", ints(&[1, 2, 1])), ("dilations", ints(&[2, 1, 1])), ("pads", ints(&[1, 0, 1, 0, 1, 1]))];
        let op = conv_node(Tensor::new(vec![3, 2, 2, 3, 2], w), &b, attributes).unwrap();
        check(op.as_ref(), &Tensor::new(vec![1, 2, 4, 5, 3], x), &[1, 3, 3, 2, 4], &reference);
    }

    #[test]
    fn a_1d_conv_transpose_places_its_output_as_onnx_says() {
        // Batch 2, 4 channels in 2 groups of 2 to 2 x 1 channels, length 4; kernel 3, stride 2:
        // the full output is 2 * 3 + 3 = 9 long (10 with output padding 1).
        let (x, w, b) = (eighths(2 * 4 * 4, 4), eighths(4 * 3, 6), [0.375, -0.125]);
        // (attributes, output length, where it begins in the full output)
        let cases = [
            (vec![("pads", ints(&[1, 2])), ("output_padding", ints(&[1]))], 7, 1),
            // Three to crop: the odd one at the beginning, unless SAME_UPPER.
            (vec![("output_shape", ints(&[6]))], 6, 2),
            (vec![("output_shape", ints(&[1, 2, 6])), ("auto_pad", Attribute::String("SAME_UPPER".into()))], 6, 1),
            // SAME: input * stride, one to crop.
            (vec![("auto_pad", Attribute::String("SAME_LOWER".into()))], 8, 1),
            // Past the full output: only the bias.
            (vec![("output_shape", ints(&[11]))], 11, 0),
        ];
        for (attributes, size, begin) in cases {
            let output_padding = attributes.iter().any(|(name, _)| *name == "output_padding") as usize;
            let mut reference = Vec::new();
            for n in 0..2 {
                for (oc, bias) in b.iter().enumerate() {
                    let mut full = vec![0.0; 9 + output_padding];
                    for ic in oc * 2..oc * 2 + 2 {
                        for (i, k) in (0..4).flat_map(|i| (0..3).map(move |k| (i, k))) {
                            full[i * 2 + k] += x[(n * 4 + ic) * 4 + i] as f64 * w[ic * 3 + k] as f64;
                        }
                    }
                    reference.extend((0..size).map(|o| *bias as f64 + full.get(o + begin).unwrap_or(&0.0)));
                }
            }
            let op = build(conv_transpose, Tensor::new(vec![4, 1, 3], w.clone()), &b, [vec![("group", Attribute::Int(2)), ("strides", ints(&[2]))], attributes].concat()).unwrap();
            check(op.as_ref(), &Tensor::new(vec![2, 4, 4], x.clone()), &[2, 2, size], &reference);
        }
    }

    #[test]
    fn attributes_and_inputs_of_another_rank_are_named() {
        let w = || Tensor::new(vec![1, 1, 3], vec![1.0; 3]);
        let err = conv_node(w(), &[0.0], vec![("kernel_shape", ints(&[3, 3]))]).unwrap_err();
        assert!(err.contains("kernel_shape [3, 3] disagrees with W's shape [1, 1, 3], whose kernel is [3]"), "{err}");
        let err = conv_node(w(), &[0.0], vec![("strides", ints(&[1, 1]))]).unwrap_err();
        assert!(err.contains("'strides' = [1, 1] needs one positive integer per spatial axis of the 1-D kernel [3]"), "{err}");
        let err = conv_node(Tensor::new(vec![1, 3], vec![1.0; 3]), &[0.0], vec![]).unwrap_err();
        assert!(err.contains("at least one spatial axis"), "{err}");
        let err = conv_node(w(), &[0.0], vec![]).unwrap().output_shape(&[&[1, 1, 5, 5]]).unwrap_err();
        assert!(err.contains("input must be [N, C] then one size per axis of the 1-D kernel [3], got [1, 1, 5, 5]"), "{err}");
    }
}
