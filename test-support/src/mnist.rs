//! The fixtures' rule for mnist_mlp's inputs (fixtures/README.md), shared by the compiler's
//! tests and the workspace's model tests.

/// The fixtures' MNIST-shaped input: each 8x8 pixel repeated 3x3, with a 2-pixel border.
pub fn upsample_28(p: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; 28 * 28];
    for y in 0..24 {
        for x in 0..24 {
            out[(y + 2) * 28 + x + 2] = p[(y / 3) * 8 + x / 3];
        }
    }
    out
}
