//! The constraint system a circuit configures: columns, gates, lookups and equality.

use ark_bn254::Fr;
use zkinfer_verifier::{CircuitDescription, Column, Expression, Gate, Lookup};

/// A cell in absolute coordinates: the layouter places cells, the permutation links them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub column: Column,
    pub row: usize,
}

macro_rules! column_type {
    ($name:ident, $ctor:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub(crate) usize);

        impl $name {
            pub fn column(&self) -> Column {
                Column::$ctor(self.0)
            }
            /// This column at the current row.
            pub fn cur(&self) -> Expression {
                self.rot(0)
            }
            pub fn next(&self) -> Expression {
                self.rot(1)
            }
            pub fn prev(&self) -> Expression {
                self.rot(-1)
            }
            /// This column `rotation` rows away from the current row.
            pub fn rot(&self, rotation: i32) -> Expression {
                Expression::cell(self.column(), rotation)
            }
        }

        impl From<$name> for Column {
            fn from(c: $name) -> Column {
                c.column()
            }
        }
    };
}

column_type!(Advice, advice, "A column of witness values, private to the prover.");
column_type!(Fixed, fixed, "A column of constants set at key generation (weights, constants).");
column_type!(Instance, instance, "A column of public inputs.");

/// A fixed column holding 0 or 1 that switches gates and lookups on per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Selector(pub(crate) Fixed);

impl Selector {
    pub fn expr(&self) -> Expression {
        self.0.cur()
    }
}

/// A fixed column that holds a lookup table from row 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableColumn(pub(crate) Fixed);

impl TableColumn {
    pub fn expr(&self) -> Expression {
        self.0.cur()
    }
}

#[derive(Clone, Debug, Default)]
pub struct ConstraintSystem {
    pub(crate) num_fixed: usize,
    pub(crate) num_advice: usize,
    pub(crate) num_instance: usize,
    pub(crate) gates: Vec<Gate>,
    pub(crate) lookups: Vec<Lookup>,
    pub(crate) permutation: Vec<Column>,
}

impl ConstraintSystem {
    pub fn advice_column(&mut self) -> Advice {
        self.num_advice += 1;
        Advice(self.num_advice - 1)
    }

    pub fn fixed_column(&mut self) -> Fixed {
        self.num_fixed += 1;
        Fixed(self.num_fixed - 1)
    }

    pub fn instance_column(&mut self) -> Instance {
        self.num_instance += 1;
        Instance(self.num_instance - 1)
    }

    pub fn selector(&mut self) -> Selector {
        Selector(self.fixed_column())
    }

    pub fn table_column(&mut self) -> TableColumn {
        TableColumn(self.fixed_column())
    }

    /// Lets cells of `column` take part in copy constraints.
    pub fn enable_equality(&mut self, column: impl Into<Column>) {
        let column = column.into();
        if !self.permutation.contains(&column) {
            self.permutation.push(column);
        }
    }

    /// A gate: every expression in `polys` must vanish on every usable row. Guard each with
    /// a selector so it holds trivially on rows the gate does not use.
    pub fn create_gate(&mut self, name: impl Into<String>, polys: Vec<Expression>) {
        self.gates.push(Gate { name: name.into(), polys });
    }

    /// A lookup: on every row where `selector` is 1, the tuple `inputs` must be a row of the
    /// table formed by the paired table columns.
    pub fn lookup(&mut self, name: impl Into<String>, selector: Expression, pairs: Vec<(Expression, TableColumn)>) {
        let (inputs, table) = pairs.into_iter().map(|(e, t)| (e, t.expr())).unzip();
        self.lookups.push(Lookup { name: name.into(), selector, inputs, table });
    }

    pub fn num_advice(&self) -> usize {
        self.num_advice
    }

    pub fn description(&self, k: u32) -> CircuitDescription {
        CircuitDescription {
            k,
            num_fixed: self.num_fixed,
            num_advice: self.num_advice,
            num_instance: self.num_instance,
            gates: self.gates.clone(),
            lookups: self.lookups.clone(),
            permutation: self.permutation.clone(),
        }
    }

    pub fn num_instance(&self) -> usize {
        self.num_instance
    }

    /// Rows at the end of the circuit that are not usable: the blinding rows and the last-row
    /// marker.
    pub fn reserved_rows(&self) -> usize {
        self.description(0).reserved_rows()
    }
}

/// Helper to write `Expression::Constant` from small integers.
pub fn constant(c: i64) -> Expression {
    let v = Fr::from(c.unsigned_abs());
    Expression::Constant(if c < 0 { -v } else { v })
}
