"""Checks that the CI recipes in examples/ parse and call keel the way keel works.

Run with the moto venv's python (it has PyYAML):
    "$VENV/bin/python" -m unittest discover -s tests/examples
"""

import os
import unittest

import yaml

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")


def load(*parts):
    with open(os.path.join(EXAMPLES, *parts)) as f:
        return yaml.safe_load(f)


def run_lines(workflow):
    return "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
    )


class Workflows(unittest.TestCase):
    def test_pr_preview_posts_one_markdown_comment(self):
        wf = load("github", "keel-plan-pr.yml")
        self.assertIn("pull_request", wf[True])  # YAML 1.1 reads the key `on` as True
        runs = run_lines(wf)
        self.assertIn("keel plan --format markdown -detailed-exitcode", runs)
        script = wf["jobs"]["plan"]["steps"][-1]["with"]["script"]
        self.assertIn("<!-- keel-plan -->", script)
        self.assertIn("updateComment", script)
        self.assertEqual(wf["permissions"]["pull-requests"], "write")
        # A plan the guardrails stop still gets its comment (with the findings); the job
        # fails after posting it. The phrase is the one keel's Markdown report prints.
        self.assertIn("grep -q 'The guardrails stop this plan' keel-plan.md", runs)
        self.assertIn("core.setFailed", script)
        with open(os.path.join(EXAMPLES, "..", "src", "report", "guard.rs")) as f:
            self.assertIn("**The guardrails stop this plan**", f.read())

    def test_scheduled_drift_opens_updates_and_closes_issues(self):
        wf = load("github", "keel-drift.yml")
        self.assertIn("schedule", wf[True])
        runs = run_lines(wf)
        self.assertIn("keel drift --format markdown", runs)
        for verb in ("gh issue create", "gh issue edit", "gh issue close"):
            self.assertIn(verb, runs)

    def test_cronjob_runs_keel_drift(self):
        job = load("kubernetes", "keel-drift-cronjob.yaml")
        self.assertEqual(job["kind"], "CronJob")
        container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["args"][0], "drift")

    def test_systemd_unit_treats_drift_as_a_result(self):
        with open(os.path.join(EXAMPLES, "systemd", "keel-drift@.service")) as f:
            unit = f.read()
        self.assertIn("SuccessExitStatus=2", unit)
        self.assertIn("keel drift stacks/%i --metrics", unit)


if __name__ == "__main__":
    unittest.main()
