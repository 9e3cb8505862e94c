//! The circuit of one inference: the input is placed (and range checked), every node is laid
//! out through the gadgets, and the outputs (and a public input) become instance values.

use crate::arith::{Synthesize, Wire};
use crate::tensor::Tensor;
use crate::Model;
use zkinfer_circuits::gadgets::{fr, MlConfig};
use zkinfer_circuits::{Circuit, ConstraintSystem, Error, Fr, Layouter, PublicTensor, Value};

pub struct ModelCircuit<'a> {
    pub model: &'a Model,
    /// The quantized input; `None` for key generation.
    pub input: Option<&'a [i64]>,
}

impl ModelCircuit<'_> {
    /// Public values: the outputs, flattened in order, then the public inputs.
    pub fn instances(model: &Model, input: &[i64], outputs: &[Tensor<i64>]) -> Vec<Vec<Fr>> {
        let mut values: Vec<Fr> = outputs.iter().flat_map(|t| t.data.iter().map(|v| fr(*v))).collect();
        for range in model.public_inputs() {
            values.extend(input[range].iter().map(|v| fr(*v)));
        }
        vec![values]
    }
}

impl Circuit for ModelCircuit<'_> {
    type Config = MlConfig;

    fn configure(&self, cs: &mut ConstraintSystem) -> MlConfig {
        MlConfig::configure(cs, self.model.shape(), self.model.gather_tables())
    }

    fn synthesize(&self, config: &MlConfig, layouter: &mut Layouter) -> Result<(), Error> {
        config.load_table(layouter)?;
        let values: Vec<Value<i64>> = match self.input {
            Some(x) => x.iter().map(|v| Value::known(*v)).collect(),
            None => vec![Value::unknown(); self.model.input_len()],
        };
        let cells = config.assign_values(layouter, &values)?;
        // The input is a witness like any other: range check it so that "some input" means an
        // input the fixed-point model could have been given; from the least value of its
        // calibrated range where it has one (then in fewer limbs), else the circuit's range.
        let settings = &self.model.settings;
        let least: Vec<i64> = match settings.input_ranges.is_empty() {
            true => vec![-config.shape.bound(); self.model.inputs.len()],
            false => settings.input_ranges().map(|(lo, _)| lo).collect(),
        };
        let items = self.model.split_input(cells.clone()).iter().zip(&least).flat_map(|(t, &l)| t.data.iter().map(move |c| (*c, l)).collect::<Vec<_>>()).collect::<Vec<_>>();
        config.range_check_inputs(layouter, &items)?;
        let inputs = self.model.split_input(cells.iter().copied().map(crate::arith::wire).collect::<Vec<Wire>>());
        let mut arith = Synthesize::new(config, layouter, &self.model.element_limbs);
        let outputs = self.model.run(&mut arith, inputs).map_err(|e| Error::Synthesis(e.to_string()))?;
        let out_cells: Vec<_> = outputs.iter().flat_map(|t| t.data.iter().map(|w| w.cell.expect("synthesis gives every wire a cell"))).collect();
        config.expose(layouter, &out_cells, 0)?;
        let mut offset = out_cells.len();
        for range in self.model.public_inputs() {
            config.expose(layouter, &cells[range.clone()], offset)?;
            offset += range.len();
        }
        Ok(())
    }

    fn public_tensors(&self) -> Vec<PublicTensor> {
        self.model.public_tensors()
    }
}
