import numpy as np
from grader.checking import public, expect_close
from reference.exercise1 import losses as ref

@public(points=1)
def test_softmax_1d(student):
    """softmax of a 1-D vector"""
    x = np.array([0.3, 2.9, 4.0])
    expect_close(student.softmax(x), ref.softmax(x), call="softmax(x)", inputs={"x": x})
