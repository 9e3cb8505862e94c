//! Copy constraints as a permutation of cells: the cells constrained equal form a cycle, and
//! each cell maps to the next cell of its cycle. Key generation encodes it in the sigma
//! polynomials; the witness check reads it to compare each cell with the next.

use crate::cs::Cell;
use crate::Error;
use zkinfer_verifier::Column;

/// A cell of the permutation: (index among the permutation's columns, row).
pub type Position = (u32, u32);

pub struct Permutation {
    columns: Vec<Column>,
    next: Vec<Vec<Position>>,
}

impl Permutation {
    /// The permutation of `columns` over `n` rows in which every pair of `copies` shares a
    /// cycle. Cycles are merged by splicing, the smaller into the larger, as copies arrive.
    pub fn new(columns: &[Column], copies: &[(Cell, Cell)], n: usize, usable_rows: usize) -> Result<Self, Error> {
        let position = |c: &Cell| -> Result<Position, Error> {
            let i = columns
                .iter()
                .position(|col| *col == c.column)
                .ok_or_else(|| Error::Synthesis(format!("a copy constraint uses {}, whose column is not enabled for equality", c.describe())))?;
            if c.row >= usable_rows {
                return Err(Error::Synthesis(format!("a copy constraint uses {}, beyond the {usable_rows} usable rows", c.describe())));
            }
            Ok((i as u32, c.row as u32))
        };
        let identity: Vec<Vec<Position>> = (0..columns.len() as u32).map(|i| (0..n as u32).map(|r| (i, r)).collect()).collect();
        let mut next = identity.clone();
        let mut cycle = identity;
        let mut sizes: Vec<Vec<u32>> = vec![vec![1; n]; columns.len()];
        let at = |table: &Vec<Vec<Position>>, p: Position| table[p.0 as usize][p.1 as usize];
        for (a, b) in copies {
            let (mut left, mut right) = (position(a)?, position(b)?);
            let (lc, rc) = (at(&cycle, left), at(&cycle, right));
            if lc == rc {
                continue;
            }
            if sizes[lc.0 as usize][lc.1 as usize] < sizes[rc.0 as usize][rc.1 as usize] {
                std::mem::swap(&mut left, &mut right);
            }
            let (keep, merge) = (at(&cycle, left), at(&cycle, right));
            sizes[keep.0 as usize][keep.1 as usize] += sizes[merge.0 as usize][merge.1 as usize];
            let mut cell = right;
            loop {
                cycle[cell.0 as usize][cell.1 as usize] = keep;
                cell = at(&next, cell);
                if cell == right {
                    break;
                }
            }
            let after_left = at(&next, left);
            next[left.0 as usize][left.1 as usize] = at(&next, right);
            next[right.0 as usize][right.1 as usize] = after_left;
        }
        Ok(Self { columns: columns.to_vec(), next })
    }

    /// The permutation's columns, in its order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// `next()[i][r]`: the cell after (column i, row r) on its cycle.
    pub fn next(&self) -> &[Vec<Position>] {
        &self.next
    }

    pub(crate) fn cell(&self, (i, r): Position) -> Cell {
        Cell { column: self.columns[i as usize], row: r as usize }
    }
}
