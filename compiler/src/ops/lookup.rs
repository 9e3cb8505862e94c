//! Gather from a constant table at computed indices (a token embedding: an integer input
//! selects rows of a fixed matrix), by lookup: each output value is one row of the `gather`
//! gate, its entry read from the table in the lookup table, whatever the table's size.

use super::{axis, quantize, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::{gather_indices, strides, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::GatherTable;

/// `Gather(data, indices)` along axis 0 with `data` a constant: output `(i, q)` is entry `q` of
/// row `indices[i]`. The table sits in the verifying key (fixed), so the entries are the
/// model's at the compiled scale.
#[derive(Debug)]
pub struct TableGather {
    data: Tensor<f32>,
    table: GatherTable,
}

pub fn table_gather(ctx: &NodeCtx, data: &Tensor<f32>) -> Result<Box<dyn Op>, String> {
    if axis(ctx.int("axis", 0)?, data.shape.len())? != 0 {
        return Err("a Gather of computed indices reads rows of its table: only axis 0 is supported".into());
    }
    if let Some(v) = data.data.iter().find(|v| !v.is_finite()) {
        return Err(format!("the table holds {v}, which fixed point cannot hold"));
    }
    let row_len = data.shape[1..].iter().product::<usize>().max(1);
    let values = data.data.iter().map(|&v| quantize(v, ctx.scale_bits)).collect();
    Ok(Box::new(TableGather { data: data.clone(), table: GatherTable { row_len, values } }))
}

impl TableGather {
    fn output_shape_of(&self, indices: &[usize]) -> Vec<usize> {
        indices.iter().chain(&self.data.shape[1..]).copied().collect()
    }
}

impl Op for TableGather {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.output_shape_of(inputs[0]))
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        if arith.shape().private_params {
            return Err(Error::Input(
                "a Gather of computed indices reads its table from the verifying key, which private parameters would reveal: compile with --param-visibility fixed".into(),
            ));
        }
        let x = inputs[0];
        let row_len = self.table.row_len;
        let items = x.data.iter().flat_map(|i| (0..row_len).map(move |j| (i.clone(), j))).collect();
        Ok(Tensor::new(self.output_shape_of(&x.shape), arith.gather(&self.table, items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let picks = crate::tensor::gather_indices(x, self.data.shape[0]).map_err(Error::Input)?;
        Ok(crate::tensor::gather_axis(&self.data, 0, &picks, &x.shape))
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }
}

/// `GatherElements(data, indices)` with `data` a constant: output `p` is the entry of `data` at
/// `p`'s coordinates with the one along `axis` replaced by `indices[p]`. The table's rows are the
/// positions along the axis, each holding the data at every other coordinate (row-major), so
/// that one `gather` row reads each output.
#[derive(Debug)]
pub struct TableGatherElements {
    axis: usize,
    data: Tensor<f32>,
    table: GatherTable,
}

pub fn table_gather_elements(ctx: &NodeCtx, data: &Tensor<f32>) -> Result<Box<dyn Op>, String> {
    let a = axis(ctx.int("axis", 0)?, data.shape.len())?;
    if let Some(v) = data.data.iter().find(|v| !v.is_finite()) {
        return Err(format!("the data holds {v}, which fixed point cannot hold"));
    }
    let (n, inner) = (data.shape[a], data.shape[a + 1..].iter().product::<usize>());
    let row_len = data.len() / n.max(1);
    // Row r: the data with coordinate r along the axis, the other coordinates row-major.
    let values = (0..n).flat_map(|r| (0..row_len).map(move |j| data.data[((j / inner) * n + r) * inner + j % inner])).map(|v| quantize(v, ctx.scale_bits)).collect();
    Ok(Box::new(TableGatherElements { axis: a, data: data.clone(), table: GatherTable { row_len: row_len.max(1), values } }))
}

/// Whether GatherElements' indices of shape `index_shape` fit data of shape `shape` along axis
/// `a`: an error naming both where they do not.
fn fits(shape: &[usize], a: usize, index_shape: &[usize]) -> Result<(), String> {
    if shape[a] == 0 || index_shape.len() != shape.len() || index_shape.iter().zip(shape).enumerate().any(|(d, (i, s))| d != a && i > s) {
        return Err(format!("indices of shape {index_shape:?} do not fit data of shape {shape:?} (the same rank, no dimension larger but the axis's, which is not empty)"));
    }
    Ok(())
}

/// Per position of `index_shape` (which [`fits`] `shape`), its place among `shape`'s
/// coordinates other than `a` (row-major).
fn places_beside_axis(shape: &[usize], a: usize, index_shape: &[usize]) -> Result<Vec<usize>, String> {
    fits(shape, a, index_shape)?;
    let (index_strides, data_strides) = (strides(index_shape), strides(shape));
    let inner: usize = shape[a + 1..].iter().product();
    let places = (0..index_shape.iter().product::<usize>())
        .map(|p| {
            let flat: usize = (0..shape.len()).filter(|&d| d != a).map(|d| (p / index_strides[d]) % index_shape[d] * data_strides[d]).sum();
            // `flat` with the axis left out: the outer coordinates' part shrinks by its length.
            (flat / (inner * shape[a])) * inner + flat % inner
        })
        .collect();
    Ok(places)
}

/// The flat data positions GatherElements reads: `indices` (negative from the axis's end) along
/// axis `a` of `shape`, at each position's other coordinates.
pub fn gather_elements_sources(shape: &[usize], a: usize, indices: &Tensor<f32>) -> Result<Vec<usize>, String> {
    let places = places_beside_axis(shape, a, &indices.shape)?;
    let picks = gather_indices(indices, shape[a])?;
    let inner: usize = shape[a + 1..].iter().product();
    Ok(places.iter().zip(picks).map(|(&j, r)| ((j / inner) * shape[a] + r) * inner + j % inner).collect())
}

impl Op for TableGatherElements {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        fits(&self.data.shape, self.axis, inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        if arith.shape().private_params {
            return Err(Error::Input(
                "a GatherElements of computed indices reads its data from the verifying key, which private parameters would reveal: compile with --param-visibility fixed".into(),
            ));
        }
        let x = inputs[0];
        let places = places_beside_axis(&self.data.shape, self.axis, &x.shape).map_err(Error::Shape)?;
        let items = x.data.iter().cloned().zip(places).collect();
        Ok(Tensor::new(x.shape.clone(), arith.gather(&self.table, items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let sources = gather_elements_sources(&self.data.shape, self.axis, inputs[0]).map_err(Error::Input)?;
        Ok(Tensor::new(inputs[0].shape.clone(), sources.iter().map(|&i| self.data.data[i]).collect()))
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }
}

/// OneHot of computed indices, `depth` and the `[off, on]` values constant: output `(.., k, ..)`
/// (`k` along `axis`) is `on` where the index is `k` (a negative one counting from `depth`),
/// `off` elsewhere, as onnxruntime gives. The table is the `depth x depth` one-hot matrix, read
/// one output a row; an index outside `[0, depth)` has no row there, so it is refused before
/// proving (onnxruntime gives all `off` outside `[-depth, depth)`).
#[derive(Debug)]
pub struct OneHot {
    axis: i64,
    depth: usize,
    values: [f32; 2],
    table: GatherTable,
}

/// The largest depth: the table holds `depth^2` entries.
const MAX_ONE_HOT_DEPTH: usize = 256;

pub fn one_hot(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let depth = ctx.require_constant(1, "depth")?;
    let values = ctx.require_constant(2, "values")?;
    let Some(&depth) = depth.data.first() else {
        return Err("depth is empty: it must hold one value".into());
    };
    let &[off, on] = &values.data[..] else {
        return Err(format!("values must hold two entries, [off, on], got {}", values.len()));
    };
    let depth = depth as i64;
    if !(1..=MAX_ONE_HOT_DEPTH as i64).contains(&depth) {
        return Err(format!("depth {depth} is not supported: 1 to {MAX_ONE_HOT_DEPTH} (the circuit holds a table of depth^2 entries)"));
    }
    let depth = depth as usize;
    let entry = |r: usize, k: usize| quantize(if r == k { on } else { off }, ctx.scale_bits);
    let table = GatherTable { row_len: depth, values: (0..depth * depth).map(|i| entry(i / depth, i % depth)).collect() };
    Ok(Box::new(OneHot { axis: ctx.int("axis", -1)?, depth, values: [off, on], table }))
}

impl OneHot {
    /// The output's shape, and the axis in it.
    fn shape_and_axis(&self, indices: &[usize]) -> Result<(Vec<usize>, usize), String> {
        let a = axis(self.axis, indices.len() + 1)?;
        let mut shape = indices.to_vec();
        shape.insert(a, self.depth);
        Ok((shape, a))
    }

    /// Per position of the output (of shape `shape`, the axis `a`), the index's position and the
    /// output's coordinate along the axis.
    fn sources(&self, shape: &[usize], a: usize) -> Vec<(usize, usize)> {
        let inner: usize = shape[a + 1..].iter().product();
        (0..shape.iter().product::<usize>()).map(|o| ((o / (inner * self.depth)) * inner + o % inner, (o / inner) % self.depth)).collect()
    }
}

impl Op for OneHot {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.shape_and_axis(inputs[0])?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let (shape, a) = self.shape_and_axis(&x.shape).map_err(Error::Shape)?;
        let items = self.sources(&shape, a).into_iter().map(|(i, k)| (x.data[i].clone(), k)).collect();
        Ok(Tensor::new(shape, arith.gather(&self.table, items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let (shape, a) = self.shape_and_axis(&x.shape).map_err(Error::Shape)?;
        let sources = self.sources(&shape, a);
        let n = self.depth as i64;
        let hot = |v: f32, k: usize| {
            let i = v as i64;
            (if i < 0 { i + n } else { i }) == k as i64
        };
        Ok(Tensor::new(shape, sources.into_iter().map(|(i, k)| self.values[hot(x.data[i], k) as usize]).collect()))
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }

    /// With values `[0, 1]`, every output is 0 or 1.
    fn boolean(&self, _: &[bool]) -> bool {
        self.values == [0.0, 1.0]
    }
}
