"""Tests of tests/docs/run_docs.py: the fence convention and the per-document shell it runs."""
import contextlib
import io
import os
import tempfile
import unittest
from pathlib import Path

import run_docs


def run(text: str, timeout: float = 20):
    """Runs one document's blocks in a scratch directory; returns (result tuple, printed text)."""
    parsed = run_docs.parse("doc.md", text)
    with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(io.StringIO()) as out:
        result = run_docs.run_document("doc.md", parsed.blocks, Path(work), dict(os.environ), timeout)
    return result, out.getvalue()


class Parse(unittest.TestCase):
    def test_tags_decide_what_runs(self):
        p = run_docs.parse("d.md", "```sh\necho a\n```\n```bash\necho b\n```\n```text\nm2mdm x [--y]\n```\n"
                                   "```json\n{}\n```\n")
        self.assertEqual(p.errors, [])
        self.assertEqual([(b.tag, b.code) for b in p.blocks],
                         [("sh", "echo a"), ("bash", "echo b"), ("text", ""), ("json", "")])

    def test_untagged_fence_is_an_error(self):
        p = run_docs.parse("d.md", "x\n```\nm2mdm server\n```\n")
        self.assertEqual(len(p.errors), 1)
        self.assertIn("d.md:2: fence without a language", p.errors[0])

    def test_skip_marker_right_before_the_fence(self):
        p = run_docs.parse("d.md", "<!-- docs-test: skip (installs packages) -->\n```sh\napt-get install x\n```\n")
        self.assertEqual(p.errors, [])
        self.assertEqual(p.blocks[0].skip, "installs packages")

    def test_misplaced_or_malformed_markers_are_errors(self):
        for text in ("<!-- docs-test: skip (x) -->\n\n```sh\nls\n```\n",      # blank line in between
                     "<!-- docs-test: skip () -->\n```sh\nls\n```\n",        # no reason
                     "<!-- docs-test: run -->\n```sh\nls\n```\n",            # unknown marker
                     "<!-- docs-test: skip (x) -->\n```toml\na = 1\n```\n",  # on a block never run
                     "text\n<!-- docs-test: skip (x) -->\n"):               # no fence at all
            self.assertEqual(len(run_docs.parse("d.md", text).errors), 1, text)

    def test_indented_block_in_a_list(self):
        p = run_docs.parse("d.md", "1. step\n\n   ```sh\n   echo a \\\n     b\n   ```\n")
        self.assertEqual(p.errors, [])
        self.assertEqual(p.blocks[0].code, "echo a \\\n  b")

    def test_console_commands_and_output(self):
        pairs = run_docs.console_commands(["$ echo a \\", "  b", "a b", "", "$ true"])
        self.assertEqual(pairs, [(["echo a \\", "  b"], ["a b"]), (["true"], [])])


class Run(unittest.TestCase):
    def test_blocks_share_one_shell(self):
        (ok, skipped, failed, _), out = run("```sh\nX=1; mkdir d; cd d\nf() { echo f$X; }\n```\n"
                                            "<!-- docs-test: skip (reason) -->\n```sh\nexit 1\n```\n"
                                            "```sh\n[ \"$X\" = 1 ] && [ \"$(basename \"$PWD\")\" = d ] && f\n```\n")
        self.assertEqual((ok, skipped, failed), (2, 1, 0), out)
        self.assertIn("SKIP doc.md:6: reason", out)

    def test_first_failing_block_fails_the_document(self):
        (ok, _, failed, _), out = run("```sh\ntrue\n```\n```sh\nfalse\necho after\n```\n```sh\ntrue\n```\n")
        self.assertEqual((ok, failed), (1, 1))
        self.assertIn("FAIL doc.md:4: exit status 1", out)
        self.assertNotIn("after", out.split("---- output")[1])

    def test_failure_inside_a_pipeline(self):
        (_, _, failed, _), out = run("```sh\nfalse | cat\n```\n")
        self.assertEqual(failed, 1, out)

    def test_console_output_is_checked(self):
        (ok, _, failed, _), out = run("```console\n$ printf 'a\\nb\\nc\\n'\na\n...\nc\n```\n")
        self.assertEqual((ok, failed), (1, 0), out)
        (ok, _, failed, _), out = run("```console\n$ printf 'a\\nb\\n'\nb\na\n```\n")
        self.assertEqual((ok, failed), (0, 1), out)
        self.assertIn("expected output line missing (or out of order): a", out)

    def test_spent_budget_fails_unrun(self):
        (ok, _, failed, _), out = run("```sh\ntouch ran\n```\n", timeout=0)
        self.assertEqual((ok, failed), (0, 1))
        self.assertIn("not run, the time budget is spent", out)

    def test_timeout_kills_background_jobs(self):
        (_, _, failed, seconds), out = run("```sh\nsleep 30 &\nsleep 30\n```\n", timeout=1)
        self.assertEqual(failed, 1)
        self.assertIn("timed out after 1 s", out)
        self.assertLess(seconds, 10)


if __name__ == "__main__":
    unittest.main()
