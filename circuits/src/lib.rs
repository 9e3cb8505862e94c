//! zkinfer's frontend: the constraint system circuits are written in, the layouter that
//! assigns their cells, and a mock checker that names every failing constraint.
//!
//! The gadgets prove integer semantics of fixed-point values (multiples of `2^-scale`); the
//! same functions give the witness, so a prover and its reference agree:
//!
//! ```
//! use zkinfer_circuits::gadgets::{floor_sqrt, Function};
//!
//! // sqrt(2) at scale 2^-8: 2 is 512, and floor(sqrt(512 * 2^8)) = 362, 1.4140625.
//! assert_eq!(floor_sqrt(512, 8), Some(362));
//! assert_eq!(floor_sqrt(-1, 8), None);
//! // A lookup's function, evaluated as its table is built.
//! assert_eq!(Function::Sigmoid.eval(0.0), 0.5);
//! ```

#![forbid(unsafe_code)]

pub mod cs;
pub mod gadgets;
pub mod layouter;
pub mod mock;
pub mod permutation;
pub mod value;

pub use cs::Cell;
pub use cs::{constant, Advice, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
pub use layouter::{AssignedCell, Circuit, Layouter, Pass, Region, Synthesis};
pub use mock::{check, Columns, Failure, MockProver};
pub use permutation::Permutation;
pub use value::Value;
pub use zkinfer_verifier::vk::{is_valid_pack, MAX_PACK};
pub use zkinfer_verifier::{CircuitDescription, Column, ColumnKind, Expression, Fr, Layout, Poly, Proof, PublicTensor, Round, Statement, TensorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("synthesis failed: {0}")]
    Synthesis(String),
    #[error("the circuit needs {needed} usable rows but 2^{k} rows leave {usable}; it needs 2^{min_k} rows")]
    NotEnoughRows { needed: usize, usable: usize, k: u32, min_k: u32 },
}
