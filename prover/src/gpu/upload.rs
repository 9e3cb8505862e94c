//! Data sent to the device, counted as a call's input or as data kept there.

use super::field::to_words;
use super::Gpu;
use ark_bn254::Fr;
use ark_ff::{Fp256, MontBackend, MontConfig};
use rayon::prelude::*;
use std::time::Instant;
use wgpu::util::DeviceExt;

/// Whether an upload is a call's input or data kept on the device across calls.
#[derive(Clone, Copy)]
pub(super) enum Upload {
    Input,
    Cached,
}

impl Gpu {
    /// A storage buffer of `words` words, zero until `fill` writes them, counted as an upload of
    /// `kind`.
    pub(super) fn upload_words(&self, label: &str, words: usize, kind: Upload, fill: impl FnOnce(&mut [u32])) -> wgpu::Buffer {
        let start = Instant::now();
        let mut host = vec![0u32; words];
        fill(&mut host);
        let buffer = self.context.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(&host),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let time = start.elapsed();
        self.count(|s| match kind {
            Upload::Input => s.upload.add(4 * words, time),
            Upload::Cached => s.upload_cached.add(4 * words, time),
        });
        buffer
    }

    /// A storage buffer holding `elements` in their Montgomery form.
    pub(super) fn upload<T: MontConfig<4>>(&self, label: &str, elements: &[Fp256<MontBackend<T, 4>>], kind: Upload) -> wgpu::Buffer {
        self.upload_words(label, 8 * elements.len(), kind, |words| {
            words.par_chunks_mut(8).zip(elements).for_each(|(w, e)| w.copy_from_slice(&to_words(&e.0)));
        })
    }

    /// `columns` side by side, each zero-padded to `n` elements.
    pub(super) fn upload_columns(&self, label: &str, columns: &[&[Fr]], n: usize, kind: Upload) -> wgpu::Buffer {
        // A buffer of no columns still binds.
        let words = 8 * n * columns.len().max(1);
        self.upload_words(label, words, kind, |words| {
            words.par_chunks_mut(8 * n).zip(columns).for_each(|(out, column)| {
                assert!(column.len() <= n, "a polynomial of {} coefficients on {n} rows", column.len());
                out.chunks_mut(8).zip(*column).for_each(|(w, e)| w.copy_from_slice(&to_words(&e.0)));
            })
        })
    }
}
