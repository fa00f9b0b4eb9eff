//! Functions that need the evaluator: `try` and `can` evaluate their arguments lazily and
//! catch the errors, and `templatefile` renders a template file with the variables given.

use super::super::Env;
use super::super::expr::Ctx;
use crate::config::span_of;
use crate::diag::Diagnostic;
use crate::value::Value;
use hcl_edit::Span as _;
use hcl_edit::expr::FuncCall;
use std::cell::Cell;

/// `try(a, b, ...)` returns the first argument that evaluates without error;
/// `can(x)` says whether `x` evaluates without error.
pub fn try_can(ctx: &mut Ctx<'_>, name: &str, f: &FuncCall) -> Result<Value, Diagnostic> {
    let here = span_of(ctx.file, f.span());
    if name == "can" {
        let mut args = f.args.iter();
        let (Some(arg), None) = (args.next(), args.next()) else {
            return Err(Diagnostic::error(format!(
                "can(): takes 1 argument (expression), got {}",
                f.args.iter().count()
            ))
            .at(here));
        };
        return Ok(match ctx.eval(arg) {
            Ok(v) if v.has_unknown() => Value::Unknown,
            Ok(_) => Value::Bool(true),
            Err(_) => Value::Bool(false),
        });
    }
    let mut last = None;
    for arg in f.args.iter() {
        match ctx.eval(arg) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Diagnostic {
            message: format!(
                "try(): no argument evaluated without an error; the last one said: {}",
                e.message
            ),
            ..e
        },
        None => Diagnostic::error("try(): takes at least 1 argument (expressions to try in order)")
            .at(here),
    })
}

thread_local! {
    static RENDERING: Cell<bool> = const { Cell::new(false) };
}

/// `templatefile(path, vars)`: reads `path` (relative to the directory keel runs in, so
/// write `"${path.module}/x.tpl"`) and renders it as a template, `%{ for }` and `%{ if }`
/// directives included, seeing only `vars`.
pub fn templatefile(ctx: &mut Ctx<'_>, f: &FuncCall) -> Result<Value, Diagnostic> {
    let here = span_of(ctx.file, f.span());
    let fail = |msg: String| Diagnostic::error(format!("templatefile(): {msg}")).at(here.clone());
    let args: Vec<_> = f.args.iter().collect();
    let [path_expr, vars_expr] = args.as_slice() else {
        return Err(fail(format!(
            "takes 2 arguments (path, vars), got {}",
            args.len()
        )));
    };
    if RENDERING.with(Cell::get) {
        return Err(fail("cannot be called from inside a template".into()));
    }
    let path = ctx.eval(path_expr)?;
    let vars = ctx.eval(vars_expr)?;
    if path.has_unknown() || vars.has_unknown() {
        return Ok(Value::Unknown);
    }
    let Value::String(path) = path else {
        return Err(fail(format!(
            "argument 1 (path) must be a string, got {}",
            super::describe(&path)
        )));
    };
    let bindings = match vars {
        Value::Map(m) => m,
        Value::Null => Default::default(),
        other => {
            return Err(fail(format!(
                "argument 2 (vars) must be an object of template variables, got {}",
                super::describe(&other)
            )));
        }
    };
    if let Some(bad) = bindings.keys().find(|k| !is_identifier(k)) {
        return Err(fail(format!(
            "argument 2 (vars) has the key \"{bad}\", which a template cannot name; use letters, digits, _ and -"
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        fail(format!(
            "cannot read \"{path}\": {e} (relative paths start at the directory keel runs in; use \"${{path.module}}/NAME\")"
        ))
    })?;
    let template = hcl_edit::parser::parse_template(&text).map_err(|e| {
        let (line, col) = line_col(&text, e.location().offset());
        fail(format!(
            "{path}:{line}:{col}: syntax error: {}",
            e.message()
        ))
    })?;
    let env = Env::default();
    let mut inner = Ctx::new(&env, ctx.file).with_bindings(bindings.into_iter().collect());
    RENDERING.with(|r| r.set(true));
    let result = inner.template(&template);
    RENDERING.with(|r| r.set(false));
    result.map_err(|d| {
        let at = d
            .span
            .as_ref()
            .map(|s| {
                let (line, col) = line_col(&text, s.range.start);
                format!("{path}:{line}:{col}: ")
            })
            .unwrap_or_default();
        fail(format!("{at}{}", d.message))
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::super::super::Env;
    use super::super::super::expr::Ctx;
    use crate::diag::FileId;
    use crate::value::Value;

    fn eval(env: &Env, src: &str) -> Result<Value, String> {
        let expr = hcl_edit::parser::parse_expr(src).expect("test expression parses");
        Ctx::new(env, FileId(0)).eval(&expr).map_err(|d| d.message)
    }

    #[test]
    fn templatefile_renders_directives_with_the_given_variables() {
        let dir = tempfile::tempdir().unwrap();
        let tpl = dir.path().join("hosts.tpl");
        std::fs::write(
            &tpl,
            "%{ for h in hosts ~}\nhost ${h}%{ if h == primary } (primary)%{ endif }\n%{ endfor ~}\nport=${port}\n",
        )
        .unwrap();
        let env = Env {
            path_module: dir.path().display().to_string(),
            ..Env::default()
        };
        let got = eval(
            &env,
            r#"templatefile("${path.module}/hosts.tpl", { hosts = ["a", "b"], primary = "b", port = 80 })"#,
        );
        assert_eq!(got, Ok(Value::str("host a\nhost b (primary)\nport=80\n")));
    }

    #[test]
    fn templatefile_errors_name_the_template_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.tpl"), "line one\n${nope}\n").unwrap();
        std::fs::write(dir.path().join("bad.tpl"), "${\n").unwrap();
        let env = Env {
            path_module: dir.path().display().to_string(),
            ..Env::default()
        };
        let e = eval(&env, r#"templatefile("${path.module}/t.tpl", {})"#).unwrap_err();
        assert!(e.contains("t.tpl:2:3") && e.contains("nope"), "{e}");
        let e = eval(&env, r#"templatefile("${path.module}/bad.tpl", {})"#).unwrap_err();
        assert!(e.contains("bad.tpl:") && e.contains("syntax error"), "{e}");
        let e = eval(&env, r#"templatefile("${path.module}/none.tpl", {})"#).unwrap_err();
        assert!(e.contains("cannot read") && e.contains("none.tpl"), "{e}");
        let e = eval(&env, r#"templatefile("${path.module}/t.tpl", "x")"#).unwrap_err();
        assert!(e.contains("argument 2 (vars)"), "{e}");
        let e = eval(&env, r#"templatefile("x")"#).unwrap_err();
        assert!(e.contains("takes 2 arguments (path, vars), got 1"), "{e}");
    }

    #[test]
    fn try_and_can_catch_errors_lazily() {
        let env = Env::default();
        assert_eq!(
            eval(&env, r#"try({}.missing, "fallback")"#),
            Ok(Value::str("fallback"))
        );
        assert_eq!(eval(&env, "can({}.missing)"), Ok(Value::Bool(false)));
        assert_eq!(eval(&env, "can(1 + 1)"), Ok(Value::Bool(true)));
        let e = eval(&env, "try({}.a, {}.b)").unwrap_err();
        assert!(
            e.contains("no argument evaluated") && e.contains("\"b\""),
            "{e}"
        );
        assert!(
            eval(&env, "can()")
                .unwrap_err()
                .contains("takes 1 argument")
        );
    }
}
