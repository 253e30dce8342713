"""Recorded answers of the reference solutions, so the students' bundle runs its public checks
without shipping `reference/`.

Public checks compare the student's results with the reference (`from reference.exerciseN
import module as ref`). The bundle must not contain that code, so at release time
(grader/course/release.py) each exercise's public checks run against the reference, and against every
case in tests/cases/exerciseN/ (so that the questions a failing check asks, to diagnose a
mistake, are answered too), with every `reference.*` module replaced by a recording proxy
(record.py). In the bundle, `reference.*` imports resolve to replay proxies (replay.py) that
look the answers up.

An answer is looked up by what was asked, never by when (data.py):

- a module-level function or class: by its name and the arguments (within floating-point
  noise, relative 1e-6), and numpy's random state when the call used randomness;
- a reference object (a `TwoLayerNet`, an optimizer): by the object's *history*, a hash of
  every call and assignment made on it since it was created, plus the question. The same
  history gives the same state, so the same answer, in whatever order a check creates and
  uses its objects.

In-place changes the reference makes to its arguments (an optimizer's `update(params, grads)`)
and to numpy's/torch's global random state are replayed as well.

A grader function decorated with `question.reference_question` (plain data in and out; its body
may hand the reference torch models and loaders) is recorded and replayed as one question, like
a module-level reference function.

What cannot be replayed makes release keep a check out of the bundle (it runs when the
instructor grades): the reference called from inside the student's code (a callback), a
reference object or a stateful grader object crossing to the other side, a student object
passed to the reference, a reference class subclassed, or a check that fails against the
reference itself. A question with no recorded answer, in the bundle, means the check handed the
reference values computed by the student's code that match neither the reference's own nor any
recorded mistake: the check ends as "could not run" (ReferenceUnavailable) with that
explanation. It never passes by accident.
"""

from grader.course.oracle.data import ORACLE_FILE
from grader.course.oracle.replay import ReferenceUnavailable, install_replay

__all__ = ["ORACLE_FILE", "ReferenceUnavailable", "install_replay"]
