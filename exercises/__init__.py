"""The course's exercises, `exercises.exerciseN.<module>`: each a stub for the student to complete.

Imported anywhere inside a course folder (a notebook's kernel started in `notebooks/`, say),
these modules are the student's own files there, never the copies of the stubs an installed
bundle keeps in site-packages (grader/course_folder.py).
"""

try:
    from grader.course_folder import own_exercises_first
except ImportError:  # no grader installed: this folder's own modules, as for any package
    pass
else:
    __path__[:] = own_exercises_first(__path__)
