//! A dense row-major tensor of any element type.

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

impl<T: Clone> Tensor<T> {
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len(), "shape {shape:?} does not match the data");
        Self { shape, data }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn reshape(self, shape: Vec<usize>) -> Self {
        Self::new(shape, self.data)
    }

    pub fn map<U: Clone>(&self, f: impl Fn(&T) -> U) -> Tensor<U> {
        Tensor::new(self.shape.clone(), self.data.iter().map(f).collect())
    }
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The tensor whose element at `(o_0, o_1, ..)` is `x[sources[0][o_0], sources[1][o_1], ..]`,
/// or `fill` where a source is `None`: slicing and padding as index maps, one per axis.
pub fn gather<T: Clone>(x: &Tensor<T>, sources: &[Vec<Option<usize>>], fill: Option<&T>) -> Tensor<T> {
    let shape: Vec<usize> = sources.iter().map(Vec::len).collect();
    let (in_strides, out_strides) = (strides(&x.shape), strides(&shape));
    let data = (0..shape.iter().product())
        .map(|o| {
            let mut src = Some(0);
            for d in 0..shape.len() {
                src = src.zip(sources[d][(o / out_strides[d]) % shape[d]]).map(|(s, i)| s + i * in_strides[d]);
            }
            match src {
                Some(i) => x.data[i].clone(),
                None => fill.expect("a fill value wherever an index map has a gap").clone(),
            }
        })
        .collect();
    Tensor::new(shape, data)
}

/// numpy's broadcast of several shapes.
pub fn broadcast_shape(shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..rank)
        .map(|d| {
            let dims = shapes.iter().filter_map(|s| (d + s.len()).checked_sub(rank).map(|i| s[i]));
            dims.clone().try_fold(1usize, |acc, n| match (acc, n) {
                (a, 1) => Ok(a),
                (1, n) => Ok(n),
                (a, n) if a == n => Ok(a),
                _ => Err(format!("shapes {shapes:?} do not broadcast")),
            })
        })
        .collect()
}

/// Gather's indices (floats holding integers; negative ones count from the end) as positions
/// along an axis of `n` entries.
pub fn gather_indices(indices: &Tensor<f32>, n: usize) -> Result<Vec<usize>, String> {
    indices
        .data
        .iter()
        .map(|&v| {
            let i = v as i64;
            let i = if i < 0 { i + n as i64 } else { i };
            (0..n as i64).contains(&i).then_some(i as usize).ok_or_else(|| format!("Gather index {v} is out of range for {n} entries"))
        })
        .collect()
}

/// ONNX Gather: the entries `picks` of axis `a`, the axis replaced by `index_shape`.
pub fn gather_axis<T: Clone>(x: &Tensor<T>, a: usize, picks: &[usize], index_shape: &[usize]) -> Tensor<T> {
    let (outer, inner): (usize, usize) = (x.shape[..a].iter().product(), x.shape[a + 1..].iter().product());
    let shape: Vec<usize> = x.shape[..a].iter().chain(index_shape).chain(&x.shape[a + 1..]).copied().collect();
    let mut data = Vec::with_capacity(outer * picks.len() * inner);
    for o in 0..outer {
        for &p in picks {
            data.extend_from_slice(&x.data[(o * x.shape[a] + p) * inner..(o * x.shape[a] + p + 1) * inner]);
        }
    }
    Tensor::new(shape, data)
}

/// For a reduction over `axes`, the flat indices of `shape` that each output combines, outputs
/// in the row-major order of the kept axes.
pub fn reduction_groups(shape: &[usize], axes: &[usize]) -> Vec<Vec<usize>> {
    let st = strides(shape);
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let mut groups = vec![Vec::new(); kept.iter().map(|&d| shape[d]).product()];
    for i in 0..shape.iter().product() {
        let key = kept.iter().fold(0, |acc, &d| acc * shape[d] + (i / st[d]) % shape[d]);
        groups[key].push(i);
    }
    groups
}
