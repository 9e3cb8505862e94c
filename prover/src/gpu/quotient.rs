//! Host side of the quotient on the device (see quotient.wgsl): the key's polynomials kept there
//! per proving key, the proof's sent once, and in one submission every part of the extended
//! coset transformed and evaluated, then the whole interpolated; only `h` comes back.

use super::backend::Kernel;
use super::field::element_from_words;
use super::kernels::pipelines;
use super::upload::Upload;
use super::{Gpu, GpuField};
use crate::backend::BackendError;
use crate::quotient::{vanishing_inverse, QuotientJob, ADD, CONSTANT, KIND, REGISTER, SUB};
use ark_bn254::{Fr, FrConfig};
use ark_poly::EvaluationDomain;
use rayon::prelude::*;
use std::sync::Arc;

/// The register file of an invocation. Programs that need more run on the host; the bundled
/// models' need at most 7.
const REGISTERS: usize = 32;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    part: u32,
    extension: u32,
    instructions: u32,
    queries: u32,
    result: u32,
    vanishing: u32,
    _pad: u32,
}

pub(super) struct Pipelines {
    evaluate: wgpu::ComputePipeline,
}

impl Pipelines {
    pub(super) fn new(device: &wgpu::Device, field: GpuField) -> Self {
        let source = [
            &field.limbs_wgsl(),
            &field.field_wgsl::<FrConfig>("fr"),
            &format!(
                "const REGISTERS: u32 = {REGISTERS}u;\nconst ADD: u32 = {ADD}u;\nconst SUB: u32 = {SUB}u;\n\
                 const REGISTER: u32 = {REGISTER}u;\nconst CONSTANT: u32 = {CONSTANT}u;\nconst KIND: u32 = {KIND}u;\n"
            ),
            include_str!("quotient.wgsl"),
        ]
        .concat();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("quotient"), source: wgpu::ShaderSource::Wgsl(source.into()) });
        let [evaluate] = pipelines(device, &module, ["evaluate"]);
        Self { evaluate }
    }
}

/// The key's polynomials on the device, for the program (so the proving key) of `id`.
pub(super) struct KeyPolys {
    id: u64,
    buffer: Arc<wgpu::Buffer>,
}

impl Gpu {
    /// Whether the job fits the device: every slot's values on a part in one binding, the
    /// extended coset in another, the program within the register file.
    pub(super) fn fits(&self, job: &QuotientJob) -> bool {
        let n = job.domains.rows.size();
        let bytes = |elements: usize| 32 * elements as u64;
        bytes(job.program.slots * n) <= self.context.max_binding && bytes(job.domains.extension * n) <= self.context.max_binding && job.program.registers <= REGISTERS
    }

    pub(super) fn quotient_on_device(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
        let context = &self.context;
        let program = job.program;
        let domains = job.domains;
        let (n, extension) = (domains.rows.size(), domains.extension);
        let key = self.key_polys(job);
        let proof = self.upload_columns("quotient proof polynomials", &job.proof, n, Upload::Input);
        let values = context.storage("quotient part values", 8 * program.slots * n);
        let h = context.storage("quotient", 8 * extension * n);
        let code: Vec<u32> = program.instructions.iter().flatten().chain(program.queries.iter().flatten()).copied().collect();
        // A program folded to a constant has no words, but its buffer still binds.
        let code = self.upload_words("quotient program", code.len().max(1), Upload::Input, |w| w[..code.len()].copy_from_slice(&code));
        let mut constants = job.constants.clone();
        constants.extend(domains.parts.iter().map(vanishing_inverse));
        let constants = self.upload("quotient constants", &constants, Upload::Input);

        let [words] = self
            .submit(Kernel::Quotient, |pass| {
                let evaluate = &self.kernels.quotient.evaluate;
                for (j, part) in domains.parts.iter().enumerate() {
                    let tables = self.tables(part);
                    let factors = tables.before_forward.as_ref().expect("the parts are cosets of the rows' subgroup");
                    self.record_scale_from(pass, (&values, 0), &key, factors, n, program.key_slots);
                    self.record_scale_from(pass, (&values, program.key_slots), &proof, factors, n, job.proof.len());
                    self.record_butterflies(pass, &values, &tables, n, program.slots, false);
                    let params = Params {
                        n: n as u32,
                        part: j as u32,
                        extension: extension as u32,
                        instructions: program.instructions.len() as u32,
                        queries: 4 * program.instructions.len() as u32,
                        result: program.result,
                        vanishing: (job.constants.len() + j) as u32,
                        _pad: 0,
                    };
                    let uniform = context.uniform(&params);
                    let bind = context.bind(evaluate, &[(0, &uniform), (1, &values), (2, &code), (3, &constants), (4, &h)]);
                    pass.dispatch("quotient evaluate", evaluate, &bind, n);
                }
                let tables = self.tables(&domains.extended);
                self.record_ntt(pass, &h, &tables, extension * n, 1, true);
                vec![(h, 8 * extension * n)]
            })?
            .try_into()
            .expect("one output");
        Ok(words.par_chunks(8).map(element_from_words).collect())
    }

    /// The key's polynomials on the device, sent with the first proof of a key.
    fn key_polys(&self, job: &QuotientJob) -> Arc<wgpu::Buffer> {
        let mut cached = self.context.key_polys.lock().expect("key polynomials cache");
        match &*cached {
            Some(k) if k.id == job.program.id() => k.buffer.clone(),
            _ => {
                let n = job.domains.rows.size();
                let buffer = Arc::new(self.upload_columns("quotient key polynomials", &job.key, n, Upload::Cached));
                *cached = Some(KeyPolys { id: job.program.id(), buffer: buffer.clone() });
                buffer
            }
        }
    }
}
