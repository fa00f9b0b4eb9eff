//! HCL source -> the flat token list the formatter works on: the token kinds Terraform's
//! formatter (hclwrite) distinguishes, whitespace dropped (the layout puts it back),
//! comments and heredoc bodies kept byte for byte.

/// What a token is, as far as spacing and indentation care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// `"` opening a quoted template.
    OQuote,
    /// `"` closing it.
    CQuote,
    /// Literal text inside quotes, escapes as written.
    QuotedLit,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing an interpolation or directive.
    TemplateSeqEnd,
    /// `<<EOT` or `<<-EOT` with its newline.
    OHeredoc,
    /// A heredoc's body, untouched.
    StringLit,
    /// The heredoc's closing marker line, its indentation included.
    CHeredoc,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    /// `=`.
    Equal,
    Comma,
    Dot,
    Ellipsis,
    Colon,
    Question,
    Minus,
    Plus,
    Star,
    Slash,
    Percent,
    EqualOp,
    NotEqual,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    And,
    Or,
    Bang,
    FatArrow,
    /// `# ...` and `// ...` with their newline, or `/* ... */`.
    Comment,
    Newline,
    /// Anything else (the file parsed, so this is rare: kept as written).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub text: String,
}

impl Token {
    pub fn new(kind: Kind, text: impl Into<String>) -> Token {
        Token {
            kind,
            text: text.into(),
        }
    }

    /// +1 for tokens that open a nesting level, -1 for those that close one.
    pub fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace
            | Kind::OBrack
            | Kind::OParen
            | Kind::TemplateInterp
            | Kind::TemplateControl => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    /// Ends a line: a newline, or a line comment (which holds its newline).
    pub fn is_newline(&self) -> bool {
        self.kind == Kind::Newline || (self.kind == Kind::Comment && self.text.ends_with('\n'))
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
}

/// Splits `src` into tokens. Concatenating their texts gives `src` back, less the spaces
/// and tabs between tokens.
pub fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
    };
    lx.tokens(false);
    lx.out
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn push(&mut self, kind: Kind, len: usize) {
        let text = &self.src[self.pos..self.pos + len];
        self.out.push(Token::new(kind, text));
        self.pos += len;
    }

    /// Lexes expression tokens. Inside an interpolation (`interp`), stops after the `}`
    /// that closes it.
    fn tokens(&mut self, interp: bool) {
        let mut braces = 0usize;
        while let Some(c) = self.peek() {
            let rest = self.rest();
            match c {
                ' ' | '\t' => self.pos += 1,
                '\n' => self.push(Kind::Newline, 1),
                '\r' if rest.starts_with("\r\n") => self.push(Kind::Newline, 2),
                '#' => self.line_comment(),
                '/' if rest.starts_with("//") => self.line_comment(),
                '/' if rest.starts_with("/*") => {
                    let len = rest[2..].find("*/").map(|i| i + 4).unwrap_or(rest.len());
                    self.push(Kind::Comment, len);
                }
                '"' => self.quoted(),
                '<' if rest.starts_with("<<") && self.heredoc() => {}
                '~' if interp && braces == 0 && rest.starts_with("~}") => {
                    self.push(Kind::TemplateSeqEnd, 2);
                    return;
                }
                '}' if interp && braces == 0 => {
                    self.push(Kind::TemplateSeqEnd, 1);
                    return;
                }
                '{' => {
                    braces += 1;
                    self.push(Kind::OBrace, 1);
                }
                '}' => {
                    braces = braces.saturating_sub(1);
                    self.push(Kind::CBrace, 1);
                }
                c if c.is_ascii_digit() => {
                    let len = number_len(rest);
                    self.push(Kind::Number, len);
                }
                c if c.is_alphabetic() || c == '_' => {
                    let len = rest
                        .char_indices()
                        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
                        .map(|(i, _)| i)
                        .unwrap_or(rest.len());
                    self.push(Kind::Ident, len);
                }
                _ => {
                    let (kind, len) = operator(rest);
                    self.push(kind, len);
                }
            }
        }
    }

    fn line_comment(&mut self) {
        let rest = self.rest();
        let len = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        self.push(Kind::Comment, len);
    }

    /// A quoted template: literal runs, and interpolations lexed as tokens.
    fn quoted(&mut self) {
        self.push(Kind::OQuote, 1);
        let mut lit = 0;
        loop {
            let rest = &self.src[self.pos + lit..];
            let Some(c) = rest.chars().next() else {
                break;
            };
            let seq = if rest.starts_with("${") {
                Some(Kind::TemplateInterp)
            } else if rest.starts_with("%{") {
                Some(Kind::TemplateControl)
            } else {
                None
            };
            match (c, seq) {
                ('"', _) | ('\n', _) => break,
                ('\\', _) => lit += rest.chars().take(2).map(char::len_utf8).sum::<usize>(),
                ('$', _) if rest.starts_with("$${") => lit += 3,
                ('%', _) if rest.starts_with("%%{") => lit += 3,
                (_, Some(kind)) => {
                    if lit > 0 {
                        self.push(Kind::QuotedLit, lit);
                        lit = 0;
                    }
                    let len = if self.rest()[2..].starts_with('~') {
                        3
                    } else {
                        2
                    };
                    self.push(kind, len);
                    self.tokens(true);
                }
                (c, None) => lit += c.len_utf8(),
            }
        }
        if lit > 0 {
            self.push(Kind::QuotedLit, lit);
        }
        if self.peek() == Some('"') {
            self.push(Kind::CQuote, 1);
        }
    }

    /// `<<EOT` / `<<-EOT`: the opener with its newline, the body and the closing line are
    /// three tokens, so nothing inside moves. False when this is not a heredoc.
    fn heredoc(&mut self) -> bool {
        let rest = self.rest();
        let after = rest[2..].strip_prefix('-').unwrap_or(&rest[2..]);
        let name_len = after
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if name.is_empty() {
            return false;
        }
        let opener = rest.len() - after.len() + name_len;
        let newline = if rest[opener..].starts_with("\r\n") {
            2
        } else if rest[opener..].starts_with('\n') {
            1
        } else {
            return false;
        };
        self.push(Kind::OHeredoc, opener + newline);
        let mut body = 0;
        loop {
            let rest = &self.src[self.pos + body..];
            if rest.is_empty() {
                break;
            }
            let line_len = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
            let line = rest[..line_len].trim_end_matches(['\n', '\r']);
            if line.trim_start() == name {
                if body > 0 {
                    self.push(Kind::StringLit, body);
                }
                self.push(Kind::CHeredoc, line.len());
                return true;
            }
            body += line_len;
        }
        if body > 0 {
            self.push(Kind::StringLit, body);
        }
        true
    }
}

fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i.max(1)
}

fn operator(s: &str) -> (Kind, usize) {
    const TWO: &[(&str, Kind)] = &[
        ("...", Kind::Ellipsis),
        ("==", Kind::EqualOp),
        ("!=", Kind::NotEqual),
        ("<=", Kind::LessEq),
        (">=", Kind::GreaterEq),
        ("&&", Kind::And),
        ("||", Kind::Or),
        ("=>", Kind::FatArrow),
    ];
    for (op, kind) in TWO {
        if s.starts_with(op) {
            return (*kind, op.len());
        }
    }
    let c = s.chars().next().unwrap_or(' ');
    let kind = match c {
        '[' => Kind::OBrack,
        ']' => Kind::CBrack,
        '(' => Kind::OParen,
        ')' => Kind::CParen,
        '=' => Kind::Equal,
        ',' => Kind::Comma,
        '.' => Kind::Dot,
        ':' => Kind::Colon,
        '?' => Kind::Question,
        '-' => Kind::Minus,
        '+' => Kind::Plus,
        '*' => Kind::Star,
        '/' => Kind::Slash,
        '%' => Kind::Percent,
        '<' => Kind::Less,
        '>' => Kind::Greater,
        '!' => Kind::Bang,
        _ => Kind::Other,
    };
    (kind, c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn templates_are_split_into_literals_and_interpolations() {
        use Kind::*;
        assert_eq!(
            kinds(r#"a = "x-${ var.y }-$${z}""#),
            vec![
                (Ident, "a".into()),
                (Equal, "=".into()),
                (OQuote, "\"".into()),
                (QuotedLit, "x-".into()),
                (TemplateInterp, "${".into()),
                (Ident, "var".into()),
                (Dot, ".".into()),
                (Ident, "y".into()),
                (TemplateSeqEnd, "}".into()),
                (QuotedLit, "-$${z}".into()),
                (CQuote, "\"".into()),
            ]
        );
    }

    #[test]
    fn heredocs_are_three_tokens_and_comments_keep_their_newline() {
        use Kind::*;
        let toks = kinds("p = <<-EOT\n  {\"a\": 1}\n  EOT\n# note\n");
        assert_eq!(
            toks,
            vec![
                (Ident, "p".into()),
                (Equal, "=".into()),
                (OHeredoc, "<<-EOT\n".into()),
                (StringLit, "  {\"a\": 1}\n".into()),
                (CHeredoc, "  EOT".into()),
                (Newline, "\n".into()),
                (Comment, "# note\n".into()),
            ]
        );
    }

    #[test]
    fn objects_inside_interpolations_do_not_end_them() {
        let toks = kinds(r#""${jsonencode({a = 1})}""#);
        let ends = toks
            .iter()
            .filter(|(k, _)| *k == Kind::TemplateSeqEnd)
            .count();
        assert_eq!(ends, 1, "{toks:?}");
        assert_eq!(toks.last().map(|t| t.0), Some(Kind::CQuote));
    }
}
