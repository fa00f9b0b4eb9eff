//! Tokens -> canonical text, by the rules of Terraform's formatter: two spaces of indent per
//! open bracket at the start of a line, one space between most tokens, and the `=` of
//! consecutive one-line attributes (and their trailing comments) aligned in a column.

use super::lexer::{Kind, Token};

/// One line's tokens, split into cells: everything before the `=` (lead), the `=` and
/// the value when the value ends on this line (assign), and a trailing comment.
struct Line {
    lead: std::ops::Range<usize>,
    assign: Option<std::ops::Range<usize>>,
    comment: Option<usize>,
}

/// Joins the tokens, each preceded by the spaces the layout gives it.
pub fn layout(tokens: &[Token]) -> String {
    let mut spaces = vec![0usize; tokens.len()];
    let lines = lines(tokens);
    indent(tokens, &lines, &mut spaces);
    space(tokens, &lines, &mut spaces);
    align(tokens, &lines, &mut spaces);
    let mut out = String::new();
    for (t, n) in tokens.iter().zip(spaces) {
        out.extend(std::iter::repeat_n(' ', n));
        out.push_str(&t.text);
    }
    out
}

fn lines(tokens: &[Token]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_newline() {
            lines.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        lines.push(start..tokens.len());
    }
    lines
        .into_iter()
        .map(|range| {
            let mut lead = range.clone();
            let mut comment = None;
            if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
                comment = Some(lead.end - 1);
                lead.end -= 1;
            }
            let mut assign = None;
            if let Some(eq) = (lead.start + 1..lead.end).find(|&i| tokens[i].kind == Kind::Equal) {
                // Only a value that ends on this line joins the column.
                let net: i32 = tokens[eq..lead.end].iter().map(Token::bracket_change).sum();
                if net == 0 {
                    assign = Some(eq..lead.end);
                    lead.end = eq;
                }
            }
            Line {
                lead,
                assign,
                comment,
            }
        })
        .collect()
}

fn cells(line: &Line) -> impl Iterator<Item = usize> + '_ {
    line.lead
        .clone()
        .chain(line.assign.clone().into_iter().flatten())
        .chain(line.comment)
}

fn indent(tokens: &[Token], lines: &[Line], spaces: &mut [usize]) {
    let mut stack: Vec<i32> = Vec::new();
    for line in lines {
        let Some(first) = cells(line).next() else {
            continue;
        };
        if tokens[first].kind == Kind::Newline {
            spaces[first] = 0;
            continue;
        }
        let net: i32 = cells(line)
            .filter(|&i| Some(i) != line.comment)
            .map(|i| tokens[i].bracket_change())
            .sum();
        if net > 0 {
            spaces[first] = 2 * stack.len();
            stack.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = stack.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    stack.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            spaces[first] = 2 * stack.len();
        }
    }
}

fn space(tokens: &[Token], lines: &[Line], spaces: &mut [usize]) {
    for line in lines {
        let cell = |range: std::ops::Range<usize>, spaces: &mut [usize]| {
            for i in range.clone() {
                let before = if i > range.start {
                    Some(&tokens[i - 1])
                } else {
                    None
                };
                if i + 1 < range.end {
                    spaces[i + 1] = usize::from(space_after(&tokens[i], before, &tokens[i + 1]));
                }
            }
        };
        cell(line.lead.clone(), spaces);
        if let Some(a) = &line.assign {
            spaces[a.start] = 1;
            cell(a.clone(), spaces);
        }
    }
}

/// Columns a run of tokens takes, counting characters.
fn columns(tokens: &[Token], spaces: &[usize], range: std::ops::Range<usize>) -> usize {
    range
        .map(|i| spaces[i] + tokens[i].text.chars().count())
        .sum()
}

fn align(tokens: &[Token], lines: &[Line], spaces: &mut [usize]) {
    // The `=` of consecutive assignment lines.
    let mut chain: Vec<&Line> = Vec::new();
    let close = |chain: &mut Vec<&Line>, spaces: &mut [usize]| {
        let max = chain
            .iter()
            .map(|l| columns(tokens, spaces, l.lead.clone()))
            .max()
            .unwrap_or(0);
        for l in chain.drain(..) {
            if let Some(a) = &l.assign {
                spaces[a.start] = max - columns(tokens, spaces, l.lead.clone()) + 1;
            }
        }
    };
    for line in lines {
        if line.assign.is_some() {
            chain.push(line);
        } else {
            close(&mut chain, spaces);
        }
    }
    close(&mut chain, spaces);
    // Then trailing comments of consecutive lines.
    let width = |l: &Line, spaces: &[usize]| {
        columns(tokens, spaces, l.lead.clone())
            + l.assign
                .clone()
                .map(|a| columns(tokens, spaces, a))
                .unwrap_or(0)
    };
    let close = |chain: &mut Vec<&Line>, spaces: &mut [usize]| {
        let max = chain.iter().map(|l| width(l, spaces)).max().unwrap_or(0);
        for l in chain.drain(..) {
            if let Some(c) = l.comment {
                spaces[c] = max - width(l, spaces) + 1;
            }
        }
    };
    for line in lines {
        if line.comment.is_some() {
            chain.push(line);
        } else {
            close(&mut chain, spaces);
        }
    }
    close(&mut chain, spaces);
}

/// Whether `subject` is followed by a space, given its neighbours (hclwrite's rules).
fn space_after(subject: &Token, before: Option<&Token>, after: &Token) -> bool {
    use Kind::*;
    let s = subject.kind;
    let a = after.kind;
    match () {
        _ if a == Newline => false,
        _ if s == Ident && a == OParen => false,
        _ if s == Dot || a == Dot => false,
        _ if a == Comma || a == Ellipsis => false,
        _ if s == Comma => true,
        // Logical not binds to its operand: `!var.enabled`.
        _ if s == Bang => false,
        _ if matches!(s, QuotedLit | StringLit | OQuote | OHeredoc)
            || matches!(a, QuotedLit | StringLit | CQuote | CHeredoc) =>
        {
            false
        }
        _ if s == Ident && subject.text == "in" && before.is_some_and(|b| b.kind == Ident) => true,
        _ if a == OBrack && (s == Ident || s == Number || subject.bracket_change() < 0) => false,
        _ if s == Minus => !matches!(
            before.map(|b| b.kind),
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | Greater
                    | GreaterEq
                    | Less
                    | LessEq
                    | And
                    | Or
                    | Bang
            )
        ),
        _ if s == OBrace || a == CBrace => !(s == OBrace && a == CBrace),
        _ if matches!(s, TemplateInterp | TemplateControl) && a == OBrace => true,
        _ if s == CBrace && a == TemplateSeqEnd => true,
        _ if s == TemplateSeqEnd && matches!(a, TemplateInterp | TemplateControl) => false,
        _ if subject.bracket_change() > 0 => false,
        _ if after.bracket_change() < 0 => false,
        _ => true,
    }
}
