//! Trino's field access on any struct value, `element_at(resources, 1).arn`, rewritten into
//! DataFusion's `get_field(element_at(resources, 1), 'arn')` (DataFusion 55 plans a dot only
//! after a column name).

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::{
    self, AccessExpr, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
    visit_expressions_mut,
};

/// Rewrites every `<call or parenthesised expr>.field` in `statement`.
pub fn rewrite_field_access(statement: &mut Statement) {
    let s = match statement {
        Statement::Statement(s) => s,
        Statement::Explain(e) => return rewrite_field_access(&mut e.statement),
        _ => return,
    };
    let _ = visit_expressions_mut(s.as_mut(), |expr| {
        if let Expr::CompoundFieldAccess { root, access_chain } = expr
            && !matches!(
                root.as_ref(),
                Expr::Identifier(_) | Expr::CompoundIdentifier(_)
            )
            && matches!(
                access_chain.first(),
                Some(AccessExpr::Dot(Expr::Identifier(_)))
            )
        {
            let mut current = std::mem::replace(root.as_mut(), Expr::Value(Value::Null.into()));
            let mut rest = Vec::new();
            for access in access_chain.drain(..) {
                match access {
                    AccessExpr::Dot(Expr::Identifier(field)) if rest.is_empty() => {
                        current = get_field(current, &field.value);
                    }
                    other => rest.push(other),
                }
            }
            *expr = if rest.is_empty() {
                current
            } else {
                Expr::CompoundFieldAccess {
                    root: Box::new(current),
                    access_chain: rest,
                }
            };
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `get_field(value, 'field')`, built from a parsed template so the node has every part a
/// call needs.
fn get_field(value: Expr, field: &str) -> Expr {
    let mut call = template();
    if let Expr::Function(f) = &mut call
        && let FunctionArguments::List(list) = &mut f.args
    {
        list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Expr(value));
        list.args[1] = FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(
            Value::SingleQuotedString(field.to_string()).into(),
        )));
    }
    call
}

fn template() -> Expr {
    let mut parser = DFParserBuilder::new("SELECT get_field(NULL, '')")
        .build()
        .expect("the template parses");
    let statement = parser
        .parse_statements()
        .expect("the template parses")
        .pop_front();
    let Some(Statement::Statement(s)) = statement else {
        unreachable!("the template is a query")
    };
    let ast::Statement::Query(q) = *s else {
        unreachable!("the template is a query")
    };
    let ast::SetExpr::Select(select) = *q.body else {
        unreachable!("the template is a select")
    };
    match select.projection.into_iter().next() {
        Some(ast::SelectItem::UnnamedExpr(e)) => e,
        _ => unreachable!("the template selects one call"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(sql: &str) -> String {
        let mut parser = DFParserBuilder::new(sql).build().unwrap();
        let mut s = parser.parse_statements().unwrap().pop_front().unwrap();
        rewrite_field_access(&mut s);
        s.to_string()
    }

    #[test]
    fn dots_after_a_call_become_get_field() {
        assert_eq!(
            rewrite("SELECT element_at(resources, 1).arn FROM t"),
            "SELECT get_field(element_at(resources, 1), 'arn') FROM t"
        );
        assert_eq!(
            rewrite("SELECT (useridentity).sessioncontext.attributes FROM t"),
            "SELECT get_field(get_field((useridentity), 'sessioncontext'), 'attributes') FROM t"
        );
    }

    #[test]
    fn explain_is_rewritten_too() {
        assert_eq!(
            rewrite("EXPLAIN SELECT element_at(resources, 1).arn FROM t"),
            "EXPLAIN SELECT get_field(element_at(resources, 1), 'arn') FROM t"
        );
    }

    #[test]
    fn column_paths_are_left_alone() {
        let sql = "SELECT useridentity.sessioncontext.attributes, r['arn'] FROM t";
        assert_eq!(rewrite(sql), sql);
    }
}
