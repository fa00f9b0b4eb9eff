//! Variable values from `terraform.tfvars` and `*.auto.tfvars`, with Terraform's precedence.

use crate::fixture::Project;

const STACK: &str = r#"
variable "name" {}

variable "tier" {
  default = "default"
}

variable "zones" {
  default = []
}

output "summary" {
  value = "${var.name}/${var.tier}/${length(var.zones)}"
}
"#;

#[test]
fn tfvars_files_are_read_and_var_flags_win() {
    let p = Project::new("tfvars");
    p.write("main.hcl", STACK);
    p.write(
        "terraform.tfvars",
        "name  = \"from-file\"\ntier  = \"file\"\nzones = [\"a\", \"b\"]\n",
    );
    p.write("z.auto.tfvars", "tier = \"auto\"\n");
    let run = p.keel(&["plan"]).ok();
    assert!(
        run.stdout.contains("\"from-file/auto/2\""),
        "{}",
        run.stdout
    );
    let run = p.keel(&["plan", "-var", "name=flag"]).ok();
    assert!(run.stdout.contains("\"flag/auto/2\""), "{}", run.stdout);
}

#[test]
fn a_block_in_a_tfvars_file_is_pointed_at() {
    let p = Project::new("tfvars-bad");
    p.write("main.hcl", STACK);
    p.write("terraform.tfvars", "name = \"x\"\n\nvariable \"y\" {}\n");
    let run = p.keel(&["plan"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("terraform.tfvars:3:1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not blocks"), "{}", run.stderr);
}
