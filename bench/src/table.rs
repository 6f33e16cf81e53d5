//! The one way the reports write a Markdown table: each column is declared once, with its
//! header, its alignment and how a row fills its cell, so a header and its value sit
//! together instead of in two format strings whose `|`s must be counted to match them.

use std::fmt::Display;

/// A table of `rows`, built column by column, written by [`Table::render`].
pub struct Table<'a, R> {
    rows: &'a [R],
    columns: Vec<Column<'a, R>>,
}

struct Column<'a, R> {
    header: &'a str,
    /// Right-aligned (`---:`), as numbers are, so their digits line up.
    right: bool,
    cell: Box<dyn Fn(&R) -> String + 'a>,
}

impl<'a, R> Table<'a, R> {
    /// A table of `rows` with no columns yet: add them in the order they are shown.
    pub fn of(rows: &'a [R]) -> Self {
        Self {
            rows,
            columns: Vec::new(),
        }
    }

    /// A left-aligned column: names, routes, prose.
    pub fn text<T: Display>(self, header: &'a str, cell: impl Fn(&R) -> T + 'a) -> Self {
        self.column(header, false, cell)
    }

    /// A right-aligned column written as `cell` has it (counts, units, bold figures).
    pub fn number<T: Display>(self, header: &'a str, cell: impl Fn(&R) -> T + 'a) -> Self {
        self.column(header, true, cell)
    }

    /// A right-aligned column of `value` with `places` decimals.
    pub fn fixed(self, header: &'a str, places: usize, value: impl Fn(&R) -> f64 + 'a) -> Self {
        self.number(header, move |row| format!("{:.places$}", value(row)))
    }

    fn column<T: Display>(
        mut self,
        header: &'a str,
        right: bool,
        cell: impl Fn(&R) -> T + 'a,
    ) -> Self {
        self.columns.push(Column {
            header,
            right,
            cell: Box::new(move |row| cell(row).to_string()),
        });
        self
    }

    /// The header line, the alignment line and one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.columns.iter().map(|c| c.header.to_owned()).collect());
        for column in &self.columns {
            out.push_str(if column.right { "|---:" } else { "|---" });
        }
        out.push_str("|\n");
        for row in self.rows {
            out.push_str(&line(self.columns.iter().map(|c| (c.cell)(row)).collect()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn headers_alignment_and_one_line_per_row() {
        let rows = [("`GET /healthz`", 1.0 / 3.0, 7), ("`POST /tasks`", 2.5, 0)];
        let table = Table::of(&rows)
            .text("route", |r| r.0)
            .fixed("p50 ms", 2, |r| r.1)
            .number("errors", |r| r.2)
            .render();
        assert_eq!(
            table,
            "| route | p50 ms | errors |\n|---|---:|---:|\n\
             | `GET /healthz` | 0.33 | 7 |\n| `POST /tasks` | 2.50 | 0 |\n"
        );
    }

    #[test]
    fn no_rows_is_the_header_alone() {
        let rows: [u8; 0] = [];
        let table = Table::of(&rows).number("n", |n| *n).render();
        assert_eq!(table, "| n |\n|---:|\n");
    }
}
