//! The few rewrites `terraform fmt` makes beyond whitespace, over the token list: a value
//! that is only `"${ expr }"` becomes `expr`, a variable's legacy `type = "string"` or bare
//! `list` becomes `string` / `list(any)`, and block labels are quoted.

use super::lexer::{Kind, Token};

/// Applies the rewrites to a whole file's tokens.
pub fn rewrite(tokens: &[Token]) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    body(tokens, &mut i, &mut out, &mut Vec::new(), false);
    // Anything left after an unbalanced `}` is kept as it is.
    out.extend_from_slice(&tokens[i.min(tokens.len())..]);
    out
}

fn body(t: &[Token], i: &mut usize, out: &mut Vec<Token>, blocks: &mut Vec<String>, nested: bool) {
    while *i < t.len() {
        let tok = &t[*i];
        match tok.kind {
            Kind::CBrace if nested => return,
            Kind::Ident if t.get(*i + 1).is_some_and(|n| n.kind == Kind::Equal) => {
                let name = tok.text.clone();
                out.push(tok.clone());
                out.push(t[*i + 1].clone());
                *i += 2;
                let start = *i;
                let mut depth = 0i32;
                while *i < t.len() {
                    let x = &t[*i];
                    if depth == 0
                        && (x.is_newline() || x.kind == Kind::Comment || x.kind == Kind::CBrace)
                    {
                        break;
                    }
                    depth += x.bracket_change();
                    *i += 1;
                }
                let value = &t[start..*i];
                if blocks.len() == 1 && blocks[0] == "variable" && name == "type" {
                    out.extend(type_expr(value));
                } else {
                    out.extend(value_expr(value));
                }
            }
            Kind::Ident => {
                blocks.push(tok.text.clone());
                out.push(tok.clone());
                *i += 1;
                // Labels, up to the block's `{`.
                while *i < t.len() && t[*i].kind != Kind::OBrace {
                    let x = &t[*i];
                    if x.kind == Kind::Ident {
                        out.push(Token::new(Kind::OQuote, "\""));
                        out.push(Token::new(Kind::QuotedLit, x.text.clone()));
                        out.push(Token::new(Kind::CQuote, "\""));
                    } else {
                        out.push(x.clone());
                    }
                    *i += 1;
                }
                if *i < t.len() {
                    out.push(t[*i].clone());
                    *i += 1;
                    body(t, i, out, blocks, true);
                    if *i < t.len() {
                        out.push(t[*i].clone());
                        *i += 1;
                    }
                }
                blocks.pop();
            }
            _ => {
                out.push(tok.clone());
                *i += 1;
            }
        }
    }
}

/// `"${ expr }"` -> `expr`, when the string holds nothing but that one interpolation.
fn value_expr(tokens: &[Token]) -> Vec<Token> {
    let n = tokens.len();
    let unchanged = || tokens.to_vec();
    if n < 5
        || tokens[0].kind != Kind::OQuote
        || tokens[1].kind != Kind::TemplateInterp
        || tokens[n - 2].kind != Kind::TemplateSeqEnd
        || tokens[n - 1].kind != Kind::CQuote
    {
        return unchanged();
    }
    let inside = &tokens[2..n - 2];
    let mut quotes = 0;
    for t in inside {
        match t.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            Kind::TemplateInterp
            | Kind::TemplateControl
            | Kind::TemplateSeqEnd
            | Kind::QuotedLit => {
                return unchanged();
            }
            _ => {}
        }
    }
    let start = inside
        .iter()
        .position(|t| t.kind != Kind::Newline)
        .unwrap_or(inside.len());
    let end = inside
        .iter()
        .rposition(|t| t.kind != Kind::Newline)
        .map(|e| e + 1)
        .unwrap_or(start);
    let trimmed = &inside[start..end];
    if trimmed.is_empty() {
        return unchanged();
    }
    let multiline = trimmed.iter().any(|t| t.kind == Kind::Newline);
    let parens = trimmed.first().is_some_and(|t| t.kind == Kind::OParen)
        && trimmed.last().is_some_and(|t| t.kind == Kind::CParen);
    if multiline && !parens {
        let mut out = vec![Token::new(Kind::OParen, "(")];
        out.extend_from_slice(trimmed);
        out.push(Token::new(Kind::CParen, ")"));
        return out;
    }
    trimmed.to_vec()
}

/// A variable's type: `list` -> `list(any)`, and Terraform 0.11's quoted types.
fn type_expr(tokens: &[Token]) -> Vec<Token> {
    let call = |name: &str, arg: &str| {
        vec![
            Token::new(Kind::Ident, name),
            Token::new(Kind::OParen, "("),
            Token::new(Kind::Ident, arg),
            Token::new(Kind::CParen, ")"),
        ]
    };
    match tokens {
        [t] if t.kind == Kind::Ident && matches!(t.text.as_str(), "list" | "map" | "set") => {
            call(&t.text, "any")
        }
        [o, lit, c]
            if o.kind == Kind::OQuote && lit.kind == Kind::QuotedLit && c.kind == Kind::CQuote =>
        {
            match lit.text.as_str() {
                "string" => vec![Token::new(Kind::Ident, "string")],
                "list" => call("list", "string"),
                "map" => call("map", "string"),
                _ => tokens.to_vec(),
            }
        }
        _ => tokens.to_vec(),
    }
}
