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
