//! The compiler's errors.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid ONNX model: {0}")]
    Onnx(String),
    /// A tensor's values in an external file (`model.onnx.data`) that is missing, out of
    /// bounds, outside the model's folder, or not yet read (see `onnx::inline_external_data`).
    #[error("external data: {0}")]
    ExternalData(String),
    #[error("unsupported op '{op}' at node '{node}'; supported ops: {supported}")]
    UnsupportedOp { op: String, node: String, supported: String },
    #[error("node '{node}' ({op}): {message}")]
    Node { op: String, node: String, message: String },
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("out of range: {0}")]
    Range(String),
    #[error("input: {0}")]
    Input(String),
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::Error),
}
