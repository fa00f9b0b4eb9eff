//! `dynamic "NAME" { for_each = ..., iterator = it, content { ... } }`: one `NAME` block per
//! element of `for_each`, its `content` evaluated with `NAME.key` / `NAME.value` (or
//! `it.key` / `it.value`) bound, as Terraform generates them. A `for_each` known only at
//! apply makes the whole list of blocks unknown until then.

use super::resource::{BodyCx, push_block};
use super::sensitive::Found;
use crate::config::{attr_span, block_header_span, span_of};
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::providers::schema::BlockType;
use crate::value::Value;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;
use std::collections::BTreeMap;

/// The name a dynamic block's content reads its element through: `iterator = NAME` when
/// given, else the block's label.
pub fn dynamic_iterator(block: &Block) -> String {
    match block.body.get_attribute("iterator").map(|a| &a.value) {
        Some(Expression::Variable(v)) => v.as_str().to_string(),
        _ => block
            .labels
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// Expands one `dynamic` block of a body whose block types are `blocks` into `map`.
#[allow(clippy::too_many_arguments)]
pub(super) fn expand(
    block: &Block,
    blocks: &[BlockType],
    what: &str,
    cx: &BodyCx<'_>,
    as_argument: &[&str],
    map: &mut BTreeMap<String, Value>,
    diags: &mut Diagnostics,
    found: &mut Found,
) {
    let file = cx.file;
    let header = block_header_span(file, block);
    let [label] = block.labels.as_slice() else {
        diags.push(
            Diagnostic::error(format!(
                "a dynamic block in {what} takes one label: the type of block it generates"
            ))
            .at(header)
            .help("write dynamic \"ingress\" { for_each = ... content { ... } }"),
        );
        return;
    };
    let name = label.as_str();
    let Some(bt) = blocks.iter().find(|b| b.name == name) else {
        let names = blocks.iter().map(|b| b.name);
        let mut d = Diagnostic::error(format!(
            "dynamic \"{name}\" in {what}: {what} has no \"{name}\" blocks"
        ))
        .at(header);
        d = match suggest(name, names.clone()) {
            Some(s) => d.help(format!("did you mean dynamic \"{s}\"?")),
            None if blocks.is_empty() => d.help("this type takes no nested blocks"),
            None => d.help(format!(
                "its blocks: {}",
                names.collect::<Vec<_>>().join(", ")
            )),
        };
        diags.push(d);
        return;
    };
    if as_argument.contains(&name) {
        diags.push(
            Diagnostic::error(format!(
                "\"{name}\" in {what} is written both as an argument and as dynamic blocks"
            ))
            .at(header)
            .help(format!(
                "use either {name} = [...] or dynamic \"{name}\" blocks"
            )),
        );
        return;
    }
    let mut for_each = None;
    for attr in block.body.attributes() {
        match attr.key.as_str() {
            "for_each" => for_each = Some(&attr.value),
            "iterator" if matches!(attr.value, Expression::Variable(_)) => {}
            "iterator" => diags.push(
                Diagnostic::error(
                    "iterator in a dynamic block must be a name, written without quotes",
                )
                .at(span_of(file, attr.value.span()))
                .help("write iterator = rule, then read rule.key and rule.value in content"),
            ),
            "labels" => diags.push(
                Diagnostic::error(format!("\"{name}\" blocks take no labels"))
                    .at(attr_span(file, attr))
                    .help("remove labels from the dynamic block"),
            ),
            other => diags.push(
                Diagnostic::error(format!(
                    "unsupported argument \"{other}\" in dynamic \"{name}\""
                ))
                .at(attr_span(file, attr))
                .help("a dynamic block takes for_each, iterator and one content block"),
            ),
        }
    }
    let mut content = None;
    for inner in block.body.blocks() {
        if inner.ident.as_str() == "content" && content.is_none() {
            content = Some(inner);
        } else {
            diags.push(
                Diagnostic::error(format!(
                    "unexpected block \"{}\" in dynamic \"{name}\"",
                    inner.ident.as_str()
                ))
                .at(block_header_span(file, inner))
                .help("a dynamic block holds exactly one content { ... } block"),
            );
        }
    }
    let (Some(for_each), Some(content)) = (for_each, content) else {
        diags.push(
            Diagnostic::error(format!(
                "dynamic \"{name}\" in {what} needs {}",
                if for_each.is_none() {
                    "for_each"
                } else {
                    "a content block"
                }
            ))
            .at(header)
            .help("write dynamic \"NAME\" { for_each = COLLECTION  content { ... } }"),
        );
        return;
    };
    let mut ctx = cx.ctx();
    let collection = match ctx.eval(for_each) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    found.note(name, &ctx);
    let pairs: Vec<(Value, Value)> = match collection {
        Value::Unknown => {
            map.insert(name.to_string(), Value::Unknown);
            return;
        }
        Value::Null => Vec::new(),
        Value::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        other => {
            diags.push(
                Diagnostic::error(format!(
                    "for_each of dynamic \"{name}\" must be a list, set or map, got {}",
                    other.type_name()
                ))
                .at(span_of(file, for_each.span())),
            );
            return;
        }
    };
    let iterator = dynamic_iterator(block);
    let content_header = block_header_span(file, content);
    if pairs.is_empty() {
        map.entry(name.to_string())
            .or_insert_with(|| Value::List(vec![]));
    }
    for (key, value) in pairs {
        let element = Value::Map(BTreeMap::from([
            ("key".to_string(), key),
            ("value".to_string(), value),
        ]));
        let mut inner = cx.clone();
        inner.bindings.push((iterator.clone(), element));
        push_block(
            &content.body,
            bt,
            what,
            content_header.clone(),
            &inner,
            map,
            diags,
            found,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::load_ok;
    use crate::eval::{Inputs, evaluate};
    use crate::value::Value;

    fn instances(hcl: &str) -> Result<Vec<(String, Value)>, String> {
        let (_root, config) = load_ok(&[("stack/main.hcl", hcl)]);
        let graph = crate::graph::build(&config).map_err(|d| format!("{:?}", d.items))?;
        let desired = evaluate(&config, &graph, &Inputs::default()).map_err(|d| {
            d.items
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        Ok(desired
            .instances
            .into_iter()
            .map(|i| (i.addr.to_string(), i.config))
            .collect())
    }

    fn config_of(hcl: &str, addr: &str) -> Value {
        let all = instances(hcl).unwrap_or_else(|e| panic!("{e}"));
        all.into_iter()
            .find(|(a, _)| a == addr)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {addr}"))
    }

    #[test]
    fn one_block_per_element_with_the_label_as_iterator() {
        let sg = config_of(
            r#"
locals {
  ingress = {
    https = { port = 443, cidrs = ["10.0.0.0/8"] }
    ssh   = { port = 22, cidrs = ["10.1.0.0/16", "10.2.0.0/16"] }
  }
}

resource "aws_security_group" "web" {
  name = "web"

  dynamic "ingress" {
    for_each = local.ingress
    content {
      description = ingress.key
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidrs
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#,
            "aws_security_group.web",
        );
        let ingress = sg.get("ingress").as_list().expect("a list of rules");
        assert_eq!(ingress.len(), 2);
        assert_eq!(ingress[0].get("description"), &Value::str("https"));
        assert_eq!(ingress[0].get("from_port"), &Value::Number(443.0));
        assert_eq!(ingress[1].get("description"), &Value::str("ssh"));
        assert_eq!(
            ingress[1].get("cidr_blocks"),
            &Value::List(vec![Value::str("10.1.0.0/16"), Value::str("10.2.0.0/16")])
        );
        assert_eq!(sg.get("egress").as_list().map(<[Value]>::len), Some(1));
    }

    #[test]
    fn nested_dynamic_blocks_with_a_named_iterator_and_a_list() {
        let lc = config_of(
            r#"
variable "rules" {
  default = [
    { id = "logs", days = [30, 90] },
    { id = "tmp", days = [] },
  ]
}

resource "aws_s3_bucket_lifecycle_configuration" "b" {
  bucket = "b"

  dynamic "rule" {
    for_each = var.rules
    iterator = r
    content {
      id     = r.value.id
      status = "Enabled"
      filter {
        prefix = "${r.value.id}/"
      }
      dynamic "transition" {
        for_each = r.value.days
        content {
          days          = transition.value
          storage_class = transition.key == 0 ? "STANDARD_IA" : "GLACIER"
        }
      }
    }
  }
}
"#,
            "aws_s3_bucket_lifecycle_configuration.b",
        );
        let rules = lc.get("rule").as_list().expect("rules");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].get("id"), &Value::str("logs"));
        let transitions = rules[0].get("transition").as_list().expect("transitions");
        assert_eq!(transitions.len(), 2);
        assert_eq!(transitions[1].get("storage_class"), &Value::str("GLACIER"));
        assert_eq!(transitions[1].get("days"), &Value::Number(90.0));
        assert_eq!(rules[1].get("transition"), &Value::List(vec![]));
    }

    #[test]
    fn a_for_each_known_only_at_apply_makes_the_blocks_unknown() {
        let sg = config_of(
            r#"
resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_security_group" "g" {
  name = "g"
  dynamic "ingress" {
    for_each = aws_vpc.v.id == "" ? [] : [aws_vpc.v.cidr_block]
    content {
      from_port   = 443
      to_port     = 443
      protocol    = "tcp"
      cidr_blocks = [ingress.value]
    }
  }
}
"#,
            "aws_security_group.g",
        );
        assert_eq!(sg.get("ingress"), &Value::Unknown);
    }

    #[test]
    fn mistakes_in_dynamic_blocks_are_explained() {
        let err = instances(
            r#"
resource "aws_security_group" "g" {
  name = "g"
  dynamic "ingres" {
    for_each = [1]
    content {}
  }
  dynamic "egress" {
    for_each = [1]
  }
  dynamic "ingress" {
    for_each = 3
    content {}
  }
}
"#,
        )
        .unwrap_err();
        assert!(err.contains("dynamic \"ingres\" in aws_security_group.g: aws_security_group.g has no \"ingres\" blocks"), "{err}");
        assert!(
            err.contains("dynamic \"egress\" in aws_security_group.g needs a content block"),
            "{err}"
        );
        assert!(
            err.contains("for_each of dynamic \"ingress\" must be a list, set or map, got number"),
            "{err}"
        );
    }
}
