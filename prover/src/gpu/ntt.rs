//! Host side of the NTT: twiddles and coset factors uploaded once per domain, one dispatch per
//! butterfly stage (see ntt.wgsl), over one vector or several side by side.

use super::backend::Kernel;
use super::field::element_from_words;
use super::kernels::pipelines;
use super::submission::Pass;
use super::upload::Upload;
use super::{Gpu, GpuField};
use crate::backend::{Backend, BackendError, Domain};
use crate::cpu::Cpu;
use ark_bn254::{Fr, FrConfig};
use ark_ff::{Field, One, Zero};
use ark_poly::EvaluationDomain;
use rayon::prelude::*;
use std::sync::Arc;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    log_n: u32,
    half: u32,
    stride: u32,
    columns: u32,
    offset: u32,
    _pad: [u32; 2],
}

impl Params {
    fn new(n: usize, columns: usize) -> Self {
        Self { n: n as u32, log_n: n.trailing_zeros(), half: 1, stride: n as u32 / 2, columns: columns as u32, offset: 0, _pad: [0; 2] }
    }
}

pub(super) struct Pipelines {
    bit_reverse: wgpu::ComputePipeline,
    butterfly: wgpu::ComputePipeline,
    scale: wgpu::ComputePipeline,
    scale_all: wgpu::ComputePipeline,
    scale_from: wgpu::ComputePipeline,
}

impl Pipelines {
    pub(super) fn new(device: &wgpu::Device, field: GpuField) -> Self {
        let source = [&field.limbs_wgsl(), &field.field_wgsl::<FrConfig>("fr"), include_str!("ntt.wgsl")].concat();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("ntt"), source: wgpu::ShaderSource::Wgsl(source.into()) });
        let [bit_reverse, butterfly, scale, scale_all, scale_from] = pipelines(device, &module, ["bit_reverse", "butterfly", "scale", "scale_all", "scale_from"]);
        Self { bit_reverse, butterfly, scale, scale_all, scale_from }
    }
}

/// One domain's constants on the device.
pub(super) struct Tables {
    /// w^k and w^-k for k < n/2.
    forward: wgpu::Buffer,
    inverse: wgpu::Buffer,
    /// Before a forward transform on a coset g H, the coefficients' factors g^i; after an
    /// inverse one, 1/n g^-i (1/n alone for the subgroup H).
    pub(super) before_forward: Option<wgpu::Buffer>,
    after_inverse: wgpu::Buffer,
}

/// `base^i` for i < len, in parallel runs.
fn powers(base: Fr, len: usize) -> Vec<Fr> {
    const RUN: usize = 1 << 12;
    let mut out = vec![Fr::zero(); len];
    out.par_chunks_mut(RUN).enumerate().for_each(|(run, chunk)| {
        let mut x = base.pow([(run * RUN) as u64]);
        for slot in chunk {
            *slot = x;
            x *= base;
        }
    });
    out
}

impl Gpu {
    /// Transforms `columns` in as few submissions as the binding limit allows.
    pub(super) fn ntt(&self, domain: &Domain, columns: &mut [Vec<Fr>], inverse: bool) -> Result<(), BackendError> {
        let n = domain.size();
        columns.iter_mut().for_each(|c| c.resize(n, Fr::zero()));
        if n == 1 {
            // The only factors, 1/n and g^0, are one.
            return Ok(());
        }
        let per_submission = (self.context.max_binding / (32 * n) as u64) as usize;
        if per_submission == 0 {
            // Beyond one binding the transform would need a four-step split across buffers; no
            // adapter we know of binds less than 2^22 elements, the extended domain of 2^20 rows.
            return if inverse { Cpu.ifft(domain, columns) } else { Cpu.fft(domain, columns) };
        }
        let tables = self.tables(domain);
        for batch in columns.chunks_mut(per_submission) {
            let slices: Vec<&[Fr]> = batch.iter().map(Vec::as_slice).collect();
            let buffer = self.upload_columns("ntt values", &slices, n, Upload::Input);
            let [words] = self
                .submit(Kernel::Ntt, |pass| {
                    self.record_ntt(pass, &buffer, &tables, n, batch.len(), inverse);
                    vec![(buffer, 8 * n * batch.len())]
                })?
                .try_into()
                .expect("one output");
            batch.par_iter_mut().zip(words.par_chunks(8 * n)).for_each(|(column, words)| column.iter_mut().zip(words.chunks(8)).for_each(|(v, w)| *v = element_from_words(w)));
        }
        Ok(())
    }

    /// Records `columns` transforms of `n` elements in `buffer`, with the coset factors of
    /// `tables` where its domain is a coset.
    pub(super) fn record_ntt(&self, pass: &mut Pass, buffer: &wgpu::Buffer, tables: &Tables, n: usize, columns: usize, inverse: bool) {
        let context = &self.context;
        let p = &self.kernels.ntt;
        let uniform = context.uniform(&Params::new(n, columns));
        let scale = |pass: &mut Pass, stage, factors: &wgpu::Buffer, per_element: bool| {
            let pipeline = if per_element { &p.scale } else { &p.scale_all };
            let bind = context.bind(pipeline, &[(0, &uniform), (1, buffer), (3, factors)]);
            pass.dispatch(stage, pipeline, &bind, columns * n);
        };
        if let (false, Some(factors)) = (inverse, &tables.before_forward) {
            scale(pass, "ntt coset factors", factors, true);
        }
        self.record_butterflies(pass, buffer, tables, n, columns, inverse);
        if inverse {
            scale(pass, "ntt inverse factors", &tables.after_inverse, tables.before_forward.is_some());
        }
    }

    /// Records the bit reversal and the butterfly stages of `columns` transforms of `n` elements
    /// in `buffer`: a whole transform on the subgroup, or on a coset once the coefficients are
    /// scaled (`record_scale_from`).
    pub(super) fn record_butterflies(&self, pass: &mut Pass, buffer: &wgpu::Buffer, tables: &Tables, n: usize, columns: usize, inverse: bool) {
        let context = &self.context;
        let p = &self.kernels.ntt;
        let uniform = context.uniform(&Params::new(n, columns));
        let bind = context.bind(&p.bit_reverse, &[(0, &uniform), (1, buffer)]);
        pass.dispatch("ntt bit reverse", &p.bit_reverse, &bind, columns * n);
        let twiddles = if inverse { &tables.inverse } else { &tables.forward };
        for s in 0..n.trailing_zeros() {
            let uniform = context.uniform(&Params { half: 1 << s, stride: (n >> (s + 1)) as u32, ..Params::new(n, columns) });
            let bind = context.bind(&p.butterfly, &[(0, &uniform), (1, buffer), (2, twiddles)]);
            pass.dispatch("ntt butterfly", &p.butterfly, &bind, columns * n / 2);
        }
    }

    /// Records `values[offset * n..] = source * factors` for `columns` vectors of `n` elements,
    /// `(values, offset)` being `into`: the first step of a coset transform, out of place.
    pub(super) fn record_scale_from(&self, pass: &mut Pass, (values, offset): (&wgpu::Buffer, usize), source: &wgpu::Buffer, factors: &wgpu::Buffer, n: usize, columns: usize) {
        let context = &self.context;
        let p = &self.kernels.ntt;
        let uniform = context.uniform(&Params { offset: (offset * n) as u32, ..Params::new(n, columns) });
        let bind = context.bind(&p.scale_from, &[(0, &uniform), (1, values), (3, factors), (4, source)]);
        pass.dispatch("ntt coset factors", &p.scale_from, &bind, columns * n);
    }

    pub(super) fn tables(&self, domain: &Domain) -> Arc<Tables> {
        let key = (domain.size, domain.coset_offset());
        let mut domains = self.context.domains.lock().expect("domain cache");
        if let Some(tables) = domains.get(&key) {
            return tables.clone();
        }
        let n = domain.size();
        let upload = |label, elements: &[Fr]| self.upload(label, elements, Upload::Cached);
        let offset = domain.coset_offset();
        let coset = !offset.is_one();
        let tables = Arc::new(Tables {
            forward: upload("twiddles", &powers(domain.group_gen(), n / 2)),
            inverse: upload("inverse twiddles", &powers(domain.group_gen_inv(), n / 2)),
            before_forward: coset.then(|| upload("coset powers", &powers(offset, n))),
            after_inverse: if coset {
                let mut factors = powers(domain.coset_offset_inv(), n);
                factors.par_iter_mut().for_each(|f| *f *= domain.size_inv());
                upload("inverse coset powers", &factors)
            } else {
                upload("1/n", &[domain.size_inv()])
            },
        });
        domains.insert(key, tables.clone());
        tables
    }
}
