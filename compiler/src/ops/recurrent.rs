//! Recurrent layers: ONNX LSTM, GRU and RNN, unrolled over the sequence (its length is static),
//! forward, reverse or both ways. Each gate's pre-activation is one dot product over the step's
//! input and the previous hidden state with the fixed weights (peepholes too); the activations
//! are lookups (Sigmoid, Tanh) of those sums, which take over their rescale, or the rescale's
//! ReLU (a `clip` rescales first, then looks up); the gating products of
//! two computed values (`f * C + i * c`, `o * tanh(C)`, GRU's `(1 - z) * h + z * H`) are one
//! products gadget each, rescaled once.

use super::elementwise::Clip;
use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function};

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

/// A gate's activation, as the `activations` attribute names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Activation {
    Sigmoid,
    Tanh,
    Relu,
}

impl Activation {
    fn parse(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            _ => Err(format!("activation {name} is not supported (Sigmoid, Tanh and Relu are)")),
        }
    }

    /// The float semantics: the function its table samples (one definition for both), or ReLU.
    fn eval(self, x: f64) -> f64 {
        self.lookup().map_or(x.max(0.0), |f| f.eval(x))
    }

    /// The table the activation looks up; none for ReLU, which an element step computes.
    fn lookup(self) -> Option<Function> {
        match self {
            Activation::Sigmoid => Some(Function::Sigmoid),
            Activation::Tanh => Some(Function::Tanh),
            Activation::Relu => None,
        }
    }

    /// Pre-activations at scale `2^2s` to activations at `2^s`: the lookup of the sums
    /// themselves where there is no clip; else one rescale (ReLU's fused in: without a clip only
    /// a ReLU comes here), the clip, then the activation.
    fn apply(self, arith: &mut dyn Arith, pre: Vec<Wire>, clip: Option<f32>) -> Result<Vec<Wire>, Error> {
        if let (Some(f), None) = (self.lookup(), clip) {
            return arith.function_of_sums(f, pre);
        }
        let rescaled = arith.element(ElementOp { rescale: true, relu: clip.is_none() }, pre.into_iter().map(|w| (w, None)).collect())?;
        let Some(c) = clip else {
            return Ok(rescaled);
        };
        let n = rescaled.len();
        let clipped = Clip::between(-c, c).apply(arith, &[&Tensor::new(vec![n], rescaled)])?.data;
        self.apply_rescaled(arith, clipped)
    }

    /// An activation of values already at `2^s` (LSTM's `h(C)`): the lookup, or a ReLU.
    fn apply_rescaled(self, arith: &mut dyn Arith, values: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        match self.lookup() {
            Some(f) => arith.function(f, values),
            None => arith.element(ElementOp { rescale: false, relu: true }, values.into_iter().map(|w| (w, None)).collect()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    /// Gates i, o, f and the cell input c (ONNX's order), with optional peepholes.
    Lstm,
    /// Gates z, r and the candidate h; `linear_before_reset` applies `r` after `R_h`.
    Gru {
        linear_before_reset: bool,
    },
    Rnn,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
            Cell::Rnn => 1,
        }
    }

    /// The activations per direction: LSTM f, g, h; GRU f, g; RNN f.
    fn activations(self) -> usize {
        match self {
            Cell::Lstm => 3,
            Cell::Gru { .. } => 2,
            Cell::Rnn => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cell::Lstm => "LSTM",
            Cell::Gru { .. } => "GRU",
            Cell::Rnn => "RNN",
        }
    }
}

#[derive(Debug)]
pub struct Recurrent {
    cell: Cell,
    hidden: usize,
    /// 1 or 2 (bidirectional); per direction, whether it runs backwards.
    reverse: Vec<bool>,
    /// `[directions, gates * hidden, input]`, `[directions, gates * hidden, hidden]`.
    w: Constant,
    r: Constant,
    /// `[directions, 2 * gates * hidden]`: the input's biases, then the hidden state's.
    b: Option<Constant>,
    /// LSTM's peepholes, `[directions, 3 * hidden]` (i, o, f).
    p: Option<Constant>,
    /// Per direction, the activations (`Cell::activations` of them).
    activations: Vec<Vec<Activation>>,
    /// `clip`: each gate's pre-activation within `[-clip, clip]`.
    clip: Option<f32>,
    /// `layout = 1`: batch first.
    batch_first: bool,
    /// Initial states given as constants (zero where absent), or computed: the position of the
    /// computed input among the node's computed inputs.
    initial_h: Initial,
    initial_c: Initial,
    /// `sequence_lens`, where given: per batch entry, how many steps of the input are its
    /// sequence (at most the input's); the steps after it output zeros and leave the state.
    sequence_lens: Option<Vec<usize>>,
}

#[derive(Debug)]
enum Initial {
    Zero,
    Constant(Constant),
    Computed(usize),
}

pub fn lstm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    recurrent(ctx, Cell::Lstm)
}

pub fn gru(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let linear_before_reset = ctx.int("linear_before_reset", 0)? != 0;
    recurrent(ctx, Cell::Gru { linear_before_reset })
}

pub fn rnn(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    recurrent(ctx, Cell::Rnn)
}

fn recurrent(ctx: &NodeCtx, cell: Cell) -> Result<Box<dyn Op>, String> {
    let name = cell.name();
    let present = |i: usize| ctx.node.inputs.get(i).is_some_and(|n| !n.is_empty());
    if ctx.constant(0).is_some() {
        return Err(format!("{name} of a constant input: nothing to prove"));
    }
    let weight = |i: usize, what: &str| ctx.constant(i).cloned().ok_or_else(|| format!("{what} (input {i}) must be a constant"));
    let (w, r) = (weight(1, "W")?, weight(2, "R")?);
    let directions = match ctx.string("direction")?.as_deref() {
        None | Some("forward") => vec![false],
        Some("reverse") => vec![true],
        Some("bidirectional") => vec![false, true],
        Some(other) => return Err(format!("direction {other} is not an ONNX direction")),
    };
    let hidden = match (ctx.int("hidden_size", 0)?, r.shape.last()) {
        (h, Some(&last)) if h as usize == last && h > 0 => last,
        (0, Some(&last)) if last > 0 => last,
        (h, last) => return Err(format!("hidden_size {h} against R's last axis {last:?}")),
    };
    let gates = cell.gates();
    let d = directions.len();
    if w.shape.len() != 3 || w.shape[0] != d || w.shape[1] != gates * hidden {
        return Err(format!("W {:?}: expected [{d}, {}, input_size]", w.shape, gates * hidden));
    }
    if r.shape != [d, gates * hidden, hidden] {
        return Err(format!("R {:?}: expected [{d}, {}, {hidden}]", r.shape, gates * hidden));
    }
    let b = match present(3) {
        true => {
            let b = weight(3, "B")?;
            if b.shape != [d, 2 * gates * hidden] {
                return Err(format!("B {:?}: expected [{d}, {}]", b.shape, 2 * gates * hidden));
            }
            Some(ctx.param(b)?)
        }
        false => None,
    };
    // Checked against the input's batch and sequence by `dims`.
    let sequence_lens = match present(4) {
        true => {
            let lens = ctx.constant(4).ok_or("sequence_lens must be a constant")?;
            Some(lens.data.iter().map(|&l| usize::try_from(l as i64).map_err(|_| format!("sequence_lens {:?} holds a negative length", lens.data))).collect::<Result<_, _>>()?)
        }
        false => None,
    };
    // The computed inputs after X, in order: initial_h (5), initial_c (6).
    let mut computed = 0;
    let mut initial = |i: usize| -> Result<Initial, String> {
        if !present(i) {
            return Ok(Initial::Zero);
        }
        match ctx.constant(i) {
            Some(c) if c.shape.len() == 3 && c.shape[2] == hidden => Ok(Initial::Constant(Constant::fixed(c.clone()))),
            Some(c) => Err(format!("initial state {:?}: expected [{d}, batch, {hidden}]", c.shape)),
            None => {
                computed += 1;
                Ok(Initial::Computed(computed))
            }
        }
    };
    let initial_h = initial(5)?;
    let initial_c = if cell == Cell::Lstm { initial(6)? } else { Initial::Zero };
    let p = match (cell, present(7)) {
        (Cell::Lstm, true) => {
            let p = weight(7, "P")?;
            if p.shape != [d, 3 * hidden] {
                return Err(format!("P {:?}: expected [{d}, {}]", p.shape, 3 * hidden));
            }
            Some(ctx.param(p)?)
        }
        _ => None,
    };
    let clip = match ctx.node.attributes.contains_key("clip") {
        true => Some(ctx.float("clip", 0.0)?).filter(|c| c.is_finite() && *c > 0.0).ok_or("clip must be a positive number")?.into(),
        false => None,
    };
    if ctx.int("input_forget", 0)? != 0 {
        return Err("input_forget = 1 is not supported".into());
    }
    if ctx.node.attributes.contains_key("activation_alpha") || ctx.node.attributes.contains_key("activation_beta") {
        return Err("activation_alpha and activation_beta are not supported (no supported activation takes them)".into());
    }
    let defaults: &[&str] = match cell {
        Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        Cell::Gru { .. } => &["Sigmoid", "Tanh"],
        Cell::Rnn => &["Tanh"],
    };
    let names = ctx.strings("activations")?.unwrap_or_else(|| defaults.iter().cycle().take(defaults.len() * d).map(|s| s.to_string()).collect());
    if names.len() != cell.activations() * d {
        return Err(format!("{} activations: {name} takes {} per direction", names.len(), cell.activations()));
    }
    let activations = names.chunks(cell.activations()).map(|c| c.iter().map(|n| Activation::parse(n)).collect::<Result<Vec<_>, _>>()).collect::<Result<_, _>>()?;
    Ok(Box::new(Recurrent {
        cell,
        hidden,
        reverse: directions,
        w: ctx.param(w)?,
        r: ctx.param(r)?,
        b,
        p,
        activations,
        clip,
        batch_first: ctx.int("layout", 0)? != 0,
        initial_h,
        initial_c,
        sequence_lens,
    }))
}

/// What one time step reads: the step's input row and the previous states, for one batch entry
/// and direction.
struct Step<'a, T> {
    x: &'a [T],
    h: &'a [T],
    c: &'a [T],
}

impl Recurrent {
    /// `(sequence, batch, input)` of an input of shape `x`.
    fn dims(&self, x: &[usize]) -> Result<(usize, usize, usize), String> {
        let [a, b, input] = x else {
            return Err(format!("input {x:?}: expected [sequence, batch, input] (or batch first with layout = 1)"));
        };
        if *input != self.w.values.shape[2] {
            return Err(format!("input size {input}, W expects {}", self.w.values.shape[2]));
        }
        let (seq, batch) = if self.batch_first { (*b, *a) } else { (*a, *b) };
        if let Some(lens) = &self.sequence_lens {
            if lens.len() != batch || lens.iter().any(|&l| l > seq) {
                return Err(format!("sequence_lens {lens:?} for a batch of {batch} sequences of {seq}: one length per entry, at most {seq}, is required"));
            }
        }
        Ok((seq, batch, *input))
    }

    /// The pre-activation dot product of unit `j` of gate `g` in direction `d`:
    /// `x W_g^T + h R_g^T (+ p_g c) + Wb_g + Rb_g`, at scale `2^2s`. `h` is `None` where GRU's
    /// candidate adds its hidden part separately.
    fn pre(&self, (d, g): (usize, usize), j: usize, x: &[Wire], h: Option<&[Wire]>, peephole: Option<(usize, &[Wire])>, bits: u32) -> Dot {
        let (gh, input) = (self.cell.gates() * self.hidden, self.w.values.shape[2]);
        let row = g * self.hidden + j;
        let mut inputs: Vec<Wire> = x.to_vec();
        let mut weights: Vec<Coef> = (0..input).map(|k| self.w.coef((d * gh + row) * input + k, bits)).collect();
        if let Some(h) = h {
            inputs.extend(h.iter().cloned());
            weights.extend((0..self.hidden).map(|k| self.r.coef((d * gh + row) * self.hidden + k, bits)));
        }
        if let (Some(p), Some((pg, c))) = (&self.p, peephole) {
            inputs.push(c[j].clone());
            weights.push(p.coef(d * 3 * self.hidden + pg * self.hidden + j, bits));
        }
        Dot { inputs, weights, bias: self.bias(d, g, j, h.is_some(), bits).0 }
    }

    /// `Wb_g[j]`, and `Rb_g[j]` too when `with_recurrent`: as a coefficient at `2^2s`, and as a
    /// float.
    fn bias(&self, d: usize, g: usize, j: usize, with_recurrent: bool, bits: u32) -> (Coef, f64) {
        let Some(b) = &self.b else { return (Coef::Const(0), 0.0) };
        let gh = self.cell.gates() * self.hidden;
        let wb = (2 * d) * gh + g * self.hidden + j;
        let rb = wb + gh;
        let value = b.values.data[wb] as f64 + if with_recurrent { b.values.data[rb] as f64 } else { 0.0 };
        // One coefficient for both: the input's bias entry carries their sum.
        (b.coef_with(wb, (value * (1u64 << (2 * bits)) as f64).round() as i64), value)
    }

    /// `Rb_g[j]` alone (GRU's candidate with `linear_before_reset`).
    fn recurrent_bias(&self, d: usize, g: usize, j: usize, bits: u32) -> (Coef, f64) {
        let Some(b) = &self.b else { return (Coef::Const(0), 0.0) };
        let gh = self.cell.gates() * self.hidden;
        let rb = (2 * d + 1) * gh + g * self.hidden + j;
        (b.coef(rb, 2 * bits), b.values.data[rb] as f64)
    }

    fn weight(c: &Constant, i: usize) -> f64 {
        c.values.data[i] as f64
    }

    /// One step on integers: the new hidden and cell states.
    fn step(&self, arith: &mut dyn Arith, d: usize, step: &Step<Wire>) -> Result<(Vec<Wire>, Vec<Wire>), Error> {
        let bits = arith.shape().scale_bits;
        let acts = &self.activations[d];
        let gate = |arith: &mut dyn Arith, g: usize, act: Activation, peephole: Option<(usize, &[Wire])>, h: Option<&[Wire]>| -> Result<Vec<Wire>, Error> {
            let dots = (0..self.hidden).map(|j| self.pre((d, g), j, step.x, h, peephole, bits)).collect();
            let pre = arith.dot(dots)?;
            act.apply(arith, pre, self.clip)
        };
        let products = |arith: &mut dyn Arith, pairs: Vec<Vec<(Wire, Wire)>>| -> Result<Vec<Wire>, Error> {
            let p = arith.products(pairs)?;
            arith.element(RESCALE, p.into_iter().map(|w| (w, None)).collect())
        };
        match self.cell {
            Cell::Lstm => {
                let (f, g, h) = (acts[0], acts[1], acts[2]);
                let i = gate(arith, 0, f, Some((0, step.c)), Some(step.h))?;
                let forget = gate(arith, 2, f, Some((2, step.c)), Some(step.h))?;
                let candidate = gate(arith, 3, g, None, Some(step.h))?;
                let c = products(arith, (0..self.hidden).map(|j| vec![(forget[j].clone(), step.c[j].clone()), (i[j].clone(), candidate[j].clone())]).collect())?;
                let o = gate(arith, 1, f, Some((1, &c)), Some(step.h))?;
                let hc = h.apply_rescaled(arith, c.clone())?;
                let new_h = products(arith, (0..self.hidden).map(|j| vec![(o[j].clone(), hc[j].clone())]).collect())?;
                Ok((new_h, c))
            }
            Cell::Gru { linear_before_reset } => {
                let (f, g) = (acts[0], acts[1]);
                let z = gate(arith, 0, f, None, Some(step.h))?;
                let r = gate(arith, 1, f, None, Some(step.h))?;
                let candidate = if linear_before_reset {
                    // r * (h R_h^T + Rb_h), rescaled, inside the input's dot product.
                    let hr = arith.dot(
                        (0..self.hidden)
                            .map(|j| {
                                let gh = 3 * self.hidden;
                                let row = 2 * self.hidden + j;
                                let weights = (0..self.hidden).map(|k| self.r.coef((d * gh + row) * self.hidden + k, bits)).collect();
                                Dot { inputs: step.h.to_vec(), weights, bias: self.recurrent_bias(d, 2, j, bits).0 }
                            })
                            .collect(),
                    )?;
                    let hr = arith.element(RESCALE, hr.into_iter().map(|w| (w, None)).collect())?;
                    let gated = arith.products((0..self.hidden).map(|j| vec![(r[j].clone(), hr[j].clone())]).collect())?;
                    let dots = (0..self.hidden)
                        .map(|j| {
                            let mut dot = self.pre((d, 2), j, step.x, None, None, bits);
                            dot.inputs.push(gated[j].clone());
                            dot.weights.push(Coef::Const(1));
                            dot
                        })
                        .collect();
                    let pre = arith.dot(dots)?;
                    g.apply(arith, pre, self.clip)?
                } else {
                    let rh = products(arith, (0..self.hidden).map(|j| vec![(r[j].clone(), step.h[j].clone())]).collect())?;
                    gate(arith, 2, g, None, Some(&rh))?
                };
                // (1 - z) h' + z H.
                let keep = arith.dot(z.iter().map(|z| Dot { inputs: vec![z.clone()], weights: vec![Coef::Const(-1)], bias: Coef::Const(1 << bits) }).collect())?;
                let new_h = products(arith, (0..self.hidden).map(|j| vec![(keep[j].clone(), candidate[j].clone()), (z[j].clone(), step.h[j].clone())]).collect())?;
                Ok((new_h, Vec::new()))
            }
            Cell::Rnn => Ok((gate(arith, 0, acts[0], None, Some(step.h))?, Vec::new())),
        }
    }

    /// One step on floats.
    fn step_float(&self, d: usize, step: &Step<f64>) -> (Vec<f64>, Vec<f64>) {
        let acts = &self.activations[d];
        let (gh, input) = (self.cell.gates() * self.hidden, self.w.values.shape[2]);
        let dot = |g: usize, j: usize, x: &[f64], h: Option<&[f64]>| -> f64 {
            let row = g * self.hidden + j;
            let mut sum: f64 = (0..input).map(|k| x[k] * Self::weight(&self.w, (d * gh + row) * input + k)).sum();
            if let Some(h) = h {
                sum += (0..self.hidden).map(|k| h[k] * Self::weight(&self.r, (d * gh + row) * self.hidden + k)).sum::<f64>();
            }
            sum + self.bias(d, g, j, h.is_some(), 0).1
        };
        let peep = |pg: usize, j: usize, c: &[f64]| self.p.as_ref().map_or(0.0, |p| Self::weight(p, d * 3 * self.hidden + pg * self.hidden + j) * c[j]);
        let n = self.hidden;
        // The gates' pre-activations within the clip, where there is one (not the cell state that
        // LSTM's h reads: onnxruntime clips only the gates).
        let act = |a: Activation, v: f64| a.eval(self.clip.map_or(v, |c| v.clamp(-c as f64, c as f64)));
        match self.cell {
            Cell::Lstm => {
                let (f, g, h) = (acts[0], acts[1], acts[2]);
                let i: Vec<f64> = (0..n).map(|j| act(f, dot(0, j, step.x, Some(step.h)) + peep(0, j, step.c))).collect();
                let forget: Vec<f64> = (0..n).map(|j| act(f, dot(2, j, step.x, Some(step.h)) + peep(2, j, step.c))).collect();
                let candidate: Vec<f64> = (0..n).map(|j| act(g, dot(3, j, step.x, Some(step.h)))).collect();
                let c: Vec<f64> = (0..n).map(|j| forget[j] * step.c[j] + i[j] * candidate[j]).collect();
                let o: Vec<f64> = (0..n).map(|j| act(f, dot(1, j, step.x, Some(step.h)) + peep(1, j, &c))).collect();
                ((0..n).map(|j| o[j] * h.eval(c[j])).collect(), c)
            }
            Cell::Gru { linear_before_reset } => {
                let (f, g) = (acts[0], acts[1]);
                let z: Vec<f64> = (0..n).map(|j| act(f, dot(0, j, step.x, Some(step.h)))).collect();
                let r: Vec<f64> = (0..n).map(|j| act(f, dot(1, j, step.x, Some(step.h)))).collect();
                let candidate: Vec<f64> = match linear_before_reset {
                    true => (0..n)
                        .map(|j| {
                            let row = 2 * n + j;
                            let hr: f64 = (0..n).map(|k| step.h[k] * Self::weight(&self.r, (d * gh + row) * n + k)).sum::<f64>() + self.recurrent_bias(d, 2, j, 0).1;
                            act(g, dot(2, j, step.x, None) + r[j] * hr)
                        })
                        .collect(),
                    false => {
                        let rh: Vec<f64> = (0..n).map(|j| r[j] * step.h[j]).collect();
                        (0..n).map(|j| act(g, dot(2, j, step.x, Some(&rh)))).collect()
                    }
                };
                ((0..n).map(|j| (1.0 - z[j]) * candidate[j] + z[j] * step.h[j]).collect(), Vec::new())
            }
            Cell::Rnn => ((0..n).map(|j| act(acts[0], dot(0, j, step.x, Some(step.h)))).collect(), Vec::new()),
        }
    }

    /// The output shapes: Y, Y_h and (LSTM) Y_c.
    fn shapes(&self, x: &[usize]) -> Result<Vec<Vec<usize>>, String> {
        let (seq, batch, _) = self.dims(x)?;
        let d = self.reverse.len();
        let (y, state) = match self.batch_first {
            false => (vec![seq, d, batch, self.hidden], vec![d, batch, self.hidden]),
            true => (vec![batch, seq, d, self.hidden], vec![batch, d, self.hidden]),
        };
        Ok(match self.cell {
            Cell::Lstm => vec![y, state.clone(), state],
            _ => vec![y, state],
        })
    }

    /// Runs every direction and batch entry over the sequence with `step`, from the initial
    /// states, and lays the results out as Y, Y_h (and Y_c), flat.
    /// An entry's steps beyond its `sequence_lens` output `zero`s, as onnxruntime's do.
    fn run<T: Clone>(&self, x: &Tensor<T>, initial: [Vec<T>; 2], zero: T, mut step: impl FnMut(usize, &Step<T>) -> Result<(Vec<T>, Vec<T>), Error>) -> Result<Tensor<T>, Error> {
        let (seq, batch, input) = self.dims(&x.shape).map_err(Error::Shape)?;
        let (n, dirs) = (self.hidden, self.reverse.len());
        let at = |t: usize, b: usize| if self.batch_first { (b * seq + t) * input } else { (t * batch + b) * input };
        // y[t][d][b], last[d][b] and last cell[d][b].
        let mut y: Vec<Vec<Vec<Vec<T>>>> = vec![vec![vec![vec![zero; n]; batch]; dirs]; seq];
        let mut last_h = vec![vec![Vec::new(); batch]; dirs];
        let mut last_c = vec![vec![Vec::new(); batch]; dirs];
        for (d, &reverse) in self.reverse.iter().enumerate() {
            for b in 0..batch {
                let state = |s: &Vec<T>| s[(d * batch + b) * n..(d * batch + b + 1) * n].to_vec();
                let (mut h, mut c) = (state(&initial[0]), state(&initial[1]));
                // A reverse direction starts at the entry's own last step.
                let len = self.sequence_lens.as_ref().map_or(seq, |lens| lens[b]);
                let order: Vec<usize> = if reverse { (0..len).rev().collect() } else { (0..len).collect() };
                for t in order {
                    let start = at(t, b);
                    let (new_h, new_c) = step(d, &Step { x: &x.data[start..start + input], h: &h, c: &c })?;
                    y[t][d][b] = new_h.clone();
                    h = new_h;
                    if !new_c.is_empty() {
                        c = new_c;
                    }
                }
                last_h[d][b] = h;
                last_c[d][b] = c;
            }
        }
        let mut data: Vec<T> = Vec::new();
        match self.batch_first {
            false => (0..seq).for_each(|t| (0..dirs).for_each(|d| (0..batch).for_each(|b| data.extend(y[t][d][b].iter().cloned())))),
            true => (0..batch).for_each(|b| (0..seq).for_each(|t| (0..dirs).for_each(|d| data.extend(y[t][d][b].iter().cloned())))),
        }
        let states = match self.cell {
            Cell::Lstm => vec![last_h, last_c],
            _ => vec![last_h],
        };
        for s in states {
            match self.batch_first {
                false => (0..dirs).for_each(|d| (0..batch).for_each(|b| data.extend(s[d][b].iter().cloned()))),
                true => (0..batch).for_each(|b| (0..dirs).for_each(|d| data.extend(s[d][b].iter().cloned()))),
            }
        }
        Ok(Tensor::new(vec![data.len()], data))
    }

    /// An initial state as `[directions * batch * hidden]` values, in the `[d, batch, hidden]`
    /// order whatever the layout.
    fn initial<T: Clone>(&self, which: &Initial, batch: usize, computed: &[&Tensor<T>], from_constant: impl Fn(&Constant, usize) -> T, zero: T) -> Result<Vec<T>, Error> {
        let len = self.reverse.len() * batch * self.hidden;
        let values: Vec<T> = match which {
            Initial::Zero => vec![zero; len],
            Initial::Constant(c) => (0..c.values.len()).map(|i| from_constant(c, i)).collect(),
            Initial::Computed(k) => computed.get(*k).map(|t| t.data.clone()).ok_or_else(|| Error::Shape("a computed initial state is missing".into()))?,
        };
        if values.len() != len {
            return Err(Error::Shape(format!("an initial state of {} values; expected [{}, {batch}, {}]", values.len(), self.reverse.len(), self.hidden)));
        }
        // Batch first: [batch, d, hidden] to [d, batch, hidden].
        Ok(match self.batch_first {
            false => values,
            true => {
                let dirs = self.reverse.len();
                (0..dirs).flat_map(|d| (0..batch).flat_map(move |b| (0..self.hidden).map(move |j| (b * dirs + d) * self.hidden + j))).map(|i| values[i].clone()).collect()
            }
        })
    }
}

impl Op for Recurrent {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![self.shapes(inputs[0])?.iter().map(|s| s.iter().product::<usize>()).sum()])
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        self.shapes(inputs[0])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (_, batch, _) = self.dims(&inputs[0].shape).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let zero = arith.constant(0)?;
        let mut states = Vec::with_capacity(2);
        for which in [&self.initial_h, &self.initial_c] {
            // A constant initial state's cells, in the verifying key.
            let cells: Vec<Wire> = match which {
                Initial::Constant(c) => c.values.data.iter().map(|v| arith.constant(super::quantize(*v, bits))).collect::<Result<_, _>>()?,
                _ => Vec::new(),
            };
            states.push(self.initial(which, batch, inputs, |_, i| cells[i].clone(), zero.clone())?);
        }
        let c = states.pop().expect("two states");
        let h = states.pop().expect("two states");
        self.run(inputs[0], [h, c], zero, |d, step| self.step(arith, d, step))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (_, batch, _) = self.dims(&inputs[0].shape).map_err(Error::Shape)?;
        let x = Tensor::new(inputs[0].shape.clone(), inputs[0].data.iter().map(|v| *v as f64).collect());
        let computed: Vec<Tensor<f64>> = inputs.iter().map(|t| Tensor::new(t.shape.clone(), t.data.iter().map(|v| *v as f64).collect())).collect();
        let computed: Vec<&Tensor<f64>> = computed.iter().collect();
        let h = self.initial(&self.initial_h, batch, &computed, |c, i| c.values.data[i] as f64, 0.0)?;
        let c = self.initial(&self.initial_c, batch, &computed, |c, i| c.values.data[i] as f64, 0.0)?;
        let out = self.run(&x, [h, c], 0.0, |d, step| Ok(self.step_float(d, step)))?;
        Ok(Tensor::new(out.shape, out.data.into_iter().map(|v| v as f32).collect()))
    }

    fn functions(&self) -> u32 {
        self.activations.iter().flatten().filter_map(|a| a.lookup()).fold(0, |bits, f| bits | f.bit())
    }

    fn uses_products(&self) -> bool {
        self.cell != Cell::Rnn
    }
}
