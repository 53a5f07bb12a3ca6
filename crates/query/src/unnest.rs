//! Trino's lateral `CROSS JOIN UNNEST(array) AS t(x)`, which Athena queries over `resources`
//! use, rewritten into the form DataFusion plans: the base table in a derived table that adds
//! `unnest(array) AS x`, keeping the base table's name so its columns resolve as before.

use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::{
    self, Join, JoinOperator, Query, SetExpr, TableFactor, TableWithJoins,
};

/// Rewrites every `base CROSS JOIN UNNEST(e) AS t(x)` directly after a table in `statement`.
pub fn rewrite_cross_join_unnest(statement: &mut Statement) {
    if let Statement::Explain(e) = statement {
        return rewrite_cross_join_unnest(&mut e.statement);
    }
    if let Statement::Statement(s) = statement
        && let ast::Statement::Query(q) = s.as_mut()
    {
        rewrite_query(q);
    }
}

fn rewrite_query(q: &mut Query) {
    if let Some(with) = &mut q.with {
        for cte in &mut with.cte_tables {
            rewrite_query(&mut cte.query);
        }
    }
    if let SetExpr::Select(select) = q.body.as_mut() {
        // `FROM t, UNNEST(a) AS u(x)` is the same lateral join as `CROSS JOIN UNNEST`.
        let mut i = 1;
        while i < select.from.len() {
            if matches!(select.from[i].relation, TableFactor::UNNEST { .. })
                && select.from[i].joins.is_empty()
            {
                let unnest = select.from.remove(i);
                select.from[i - 1].joins.push(Join {
                    relation: unnest.relation,
                    global: false,
                    join_operator: JoinOperator::CrossJoin(ast::JoinConstraint::None),
                });
            } else {
                i += 1;
            }
        }
        for from in &mut select.from {
            rewrite_from(from);
        }
    }
}

/// The column alias and array of a `CROSS JOIN UNNEST(array) AS t(x)`.
fn lateral_unnest(join: &Join) -> Option<(String, String)> {
    if !matches!(join.join_operator, JoinOperator::CrossJoin(_)) {
        return None;
    }
    let TableFactor::UNNEST {
        alias: Some(alias),
        array_exprs,
        with_offset: false,
        with_ordinality: false,
        ..
    } = &join.relation
    else {
        return None;
    };
    match (array_exprs.as_slice(), alias.columns.as_slice()) {
        ([array], [column]) => Some((array.to_string(), column.name.to_string())),
        _ => None,
    }
}

fn rewrite_from(from: &mut TableWithJoins) {
    if let TableFactor::Derived { subquery, .. } = &mut from.relation {
        rewrite_query(subquery);
    }
    let Some((array, column)) = from.joins.first().and_then(lateral_unnest) else {
        return;
    };
    let TableFactor::Table { name, alias, .. } = &from.relation else {
        return;
    };
    let visible = match alias {
        Some(a) => a.name.to_string(),
        None => name.0.last().map(|p| p.to_string()).unwrap_or_default(),
    };
    let sql = format!(
        "SELECT * FROM (SELECT *, unnest({array}) AS {column} FROM {}) AS {visible}",
        from.relation
    );
    let Some(derived) = parse_from_item(&sql) else {
        return;
    };
    from.relation = derived;
    from.joins.remove(0);
}

fn parse_from_item(sql: &str) -> Option<TableFactor> {
    let mut parser = DFParserBuilder::new(sql).build().ok()?;
    let statement = parser.parse_statements().ok()?.pop_front()?;
    let Statement::Statement(s) = statement else {
        return None;
    };
    let ast::Statement::Query(q) = *s else {
        return None;
    };
    let SetExpr::Select(select) = *q.body else {
        return None;
    };
    select.from.into_iter().next().map(|f| f.relation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(sql: &str) -> String {
        let mut parser = DFParserBuilder::new(sql).build().unwrap();
        let mut s = parser.parse_statements().unwrap().pop_front().unwrap();
        rewrite_cross_join_unnest(&mut s);
        s.to_string()
    }

    #[test]
    fn lateral_unnest_becomes_a_derived_table() {
        assert_eq!(
            rewrite(
                "SELECT r.arn FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r) WHERE eventname = 'x'"
            ),
            "SELECT r.arn FROM (SELECT *, unnest(resources) AS r FROM cloudtrail) AS cloudtrail WHERE eventname = 'x'"
        );
        assert_eq!(
            rewrite(
                "SELECT c.eventid, r.arn FROM cloudtrail c CROSS JOIN UNNEST(c.resources) AS t (r)"
            ),
            "SELECT c.eventid, r.arn FROM (SELECT *, unnest(c.resources) AS r FROM cloudtrail c) AS c"
        );
    }

    #[test]
    fn a_comma_before_unnest_is_a_lateral_join() {
        assert_eq!(
            rewrite("SELECT r.arn FROM cloudtrail, UNNEST(resources) AS t(r)"),
            "SELECT r.arn FROM (SELECT *, unnest(resources) AS r FROM cloudtrail) AS cloudtrail"
        );
    }

    #[test]
    fn other_queries_are_left_alone() {
        let sql = "SELECT * FROM cloudtrail CROSS JOIN other";
        assert_eq!(rewrite(sql), sql);
    }
}
