//! Golden tests: input -> what `terraform fmt` makes of it, then formatting the output
//! again changes nothing.

use super::format;
use crate::diag::FileId;

fn fmt(src: &str) -> String {
    let once = format(src, FileId(0)).expect("test input parses");
    let twice = format(&once, FileId(0)).expect("formatted output parses");
    assert_eq!(once, twice, "formatting is not idempotent for:\n{src}");
    once
}

#[track_caller]
fn golden(input: &str, want: &str) {
    assert_eq!(fmt(input), want, "\n--- input:\n{input}");
}

#[test]
fn spaces_between_tokens() {
    golden("a=1\n", "a = 1\n");
    golden("a=b.c\n", "a = b.c\n");
    golden("a=b[c]\n", "a = b[c]\n");
    golden("a=b()[c]\n", "a = b()[c]\n");
    golden("a=[\"hello\"][0]\n", "a = [\"hello\"][0]\n");
    golden("a=( x+2 )\n", "a = (x + 2)\n");
    golden("a=( x*-2 )\n", "a = (x * -2)\n");
    golden("a=foo(1, -2,x*y, b,c)\n", "a = foo(1, -2, x * y, b, c)\n");
    golden("a=\"hello ${ name }\"\n", "a = \"hello ${name}\"\n");
    golden("a=\"hello ${~ name ~}\"\n", "a = \"hello ${~name~}\"\n");
    golden("a=[ [ ] ]\n", "a = [[]]\n");
    golden("a=[for x in y: x]\n", "a = [for x in y : x]\n");
    golden(
        "a={for k,v in m: k=>v if v!=null}\n",
        "a = { for k, v in m : k => v if v != null }\n",
    );
    golden("a=x?1:-1\n", "a = x ? 1 : -1\n");
    golden("a=f(xs...)\n", "a = f(xs...)\n");
    golden("a=!b&&c||d\n", "a = !b && c || d\n");
    golden("a=x[*].id\n", "a = x[*].id\n");
}

#[test]
fn blocks_and_objects() {
    golden("b{}\n", "b {}\n");
    golden("b {a = 1}\n", "b { a = 1 }\n");
    golden("b{\na=1\n}\n", "b {\n  a = 1\n}\n");
    golden("a = {x=1}\n", "a = { x = 1 }\n");
    golden(
        "resource aws_vpc main {\ncidr_block=\"10.0.0.0/16\"\n}\n",
        "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n",
    );
}

#[test]
fn equals_align_in_runs_of_one_line_attributes() {
    golden("a = 1\nbungle = 2\n", "a      = 1\nbungle = 2\n");
    // A blank line, a comment line or a multi-line value ends the run.
    golden("a = 1\n\nbungle = 2\n", "a = 1\n\nbungle = 2\n");
    golden("a = 1\n# note\nbungle = 2\n", "a = 1\n# note\nbungle = 2\n");
    golden(
        "a = 1\ntags = {\nx = 1\nlonger = 2\n}\nbb = 3\n",
        "a = 1\ntags = {\n  x      = 1\n  longer = 2\n}\nbb = 3\n",
    );
    // Alignment counts characters, not bytes.
    golden("é = 1\nab = 2\n", "é  = 1\nab = 2\n");
}

#[test]
fn trailing_comments_align_and_every_comment_is_kept() {
    golden(
        "a = 1 # foo\nbungle = \"bonce\" # baz\n",
        "a      = 1       # foo\nbungle = \"bonce\" # baz\n",
    );
    golden(
        "a=\"apple\"# foo\nbungle=(# woo parens\n\"bonce\"\n)# baz\nzebra=\"striped\"# baz\n",
        "a = \"apple\" # foo\nbungle = (  # woo parens\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
    );
    golden("foo {\n# ...\n}\n", "foo {\n  # ...\n}\n");
    golden(
        "/* header\n   kept as is */\nb {\n// slashes stay slashes\na = 1 /* inline */\n}\n",
        "/* header\n   kept as is */\nb {\n  // slashes stay slashes\n  a = 1 /* inline */\n}\n",
    );
}

#[test]
fn nesting_indents_two_spaces_per_level() {
    golden(
        "foo {\nbar = [\n{\nx = 1\n},\n]\n}\n",
        "foo {\n  bar = [\n    {\n      x = 1\n    },\n  ]\n}\n",
    );
    golden(
        "a = foo(\n1,\n- 2,\nx*y,\n)\n",
        "a = foo(\n  1,\n  -2,\n  x * y,\n)\n",
    );
    golden("a = [[\nx\n]]\n", "a = [[\n  x\n]]\n");
    golden("\t\tb {\n\t\t\t\ta = 1\n\t\t}\n", "b {\n  a = 1\n}\n");
}

#[test]
fn heredocs_are_kept_exactly() {
    let src = "resource \"aws_instance\" \"gpu\" {\n      user_data = <<-EOT\n    #!/bin/bash\n      nvidia-smi   ${var.x}\n\n    EOT\n  ami=\"ami-1\"\n}\n";
    golden(
        src,
        "resource \"aws_instance\" \"gpu\" {\n  user_data = <<-EOT\n    #!/bin/bash\n      nvidia-smi   ${var.x}\n\n    EOT\n  ami       = \"ami-1\"\n}\n",
    );
    golden(
        "p = <<EOF\n{ \"a\" :1 }\nEOF\n",
        "p = <<EOF\n{ \"a\" :1 }\nEOF\n",
    );
}

#[test]
fn terraform_rewrites_interpolation_only_strings_and_legacy_types() {
    golden("a = \"${var.x}\"\n", "a = var.x\n");
    golden("a = \"${var.x}-suffix\"\n", "a = \"${var.x}-suffix\"\n");
    golden("a = \"${f(\"${b}\")}\"\n", "a = f(\"${b}\")\n");
    golden("a = \"${x}${y}\"\n", "a = \"${x}${y}\"\n");
    golden("a = \"${\nx ? 1 : 2\n}\"\n", "a = x ? 1 : 2\n");
    golden("a = \"${x ?\n1 : 2}\"\n", "a = (x ?\n1 : 2)\n");
    golden(
        "variable \"a\" {\ntype = \"string\"\n}\nvariable \"b\" {\ntype = list\n}\nvariable \"c\" {\ntype = \"map\"\n}\n",
        "variable \"a\" {\n  type = string\n}\nvariable \"b\" {\n  type = list(any)\n}\nvariable \"c\" {\n  type = map(string)\n}\n",
    );
    // Only a variable's own type is a type expression.
    golden(
        "locals {\ntype = \"string\"\n}\n",
        "locals {\n  type = \"string\"\n}\n",
    );
}

#[test]
fn blank_lines_are_kept_and_trailing_spaces_removed() {
    golden("a = 1   \n\n\n\nb = 2\n", "a = 1\n\n\n\nb = 2\n");
    golden("a = 1", "a = 1");
    golden("", "");
    golden("a = 1\r\nbb = 2\r\n", "a  = 1\r\nbb = 2\r\n");
}

#[test]
fn a_realistic_stack_formats_as_terraform_would() {
    let input = r#"
# The training cluster's network.
variable "cidr" {
    type = string
    default = "10.40.0.0/16"   # big enough for 16 subnets
    validation {
        condition = can(cidrhost(var.cidr, 0))
        error_message = "cidr must be a CIDR block."
    }
}

locals {
  azs = ["us-east-1a","us-east-1b"]
  subnets = {for i, az in local.azs: az => cidrsubnet(var.cidr, 8, i)}
}

resource "aws_subnet" "private" {
    for_each = local.subnets
    vpc_id = aws_vpc.main.id
    cidr_block = each.value
    availability_zone = each.key
    tags = merge(local.tags, {
        Name = "private-${each.key}"
    })
}
"#;
    let want = r#"
# The training cluster's network.
variable "cidr" {
  type    = string
  default = "10.40.0.0/16" # big enough for 16 subnets
  validation {
    condition     = can(cidrhost(var.cidr, 0))
    error_message = "cidr must be a CIDR block."
  }
}

locals {
  azs     = ["us-east-1a", "us-east-1b"]
  subnets = { for i, az in local.azs : az => cidrsubnet(var.cidr, 8, i) }
}

resource "aws_subnet" "private" {
  for_each          = local.subnets
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = each.key
  tags = merge(local.tags, {
    Name = "private-${each.key}"
  })
}
"#;
    golden(input, want);
}

#[test]
fn a_file_that_does_not_parse_is_refused_with_its_location() {
    let e = format("a = {\n", FileId(0)).unwrap_err();
    assert!(e.message.starts_with("syntax error"), "{}", e.message);
    assert!(e.span.is_some());
}
