//! Gather from a constant table at computed indices (a token embedding: an integer input
//! selects rows of a fixed matrix), by lookup: each output value is one row of the `gather`
//! gate, its entry read from the table in the lookup table, whatever the table's size.

use super::{axis, quantize, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::Tensor;
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
