"""@input_schema / @output_schema (inference-schema): the server splits the JSON body into kwargs."""

import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("data", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
@input_schema("factor", StandardPythonParameterType(2.0))
@output_schema(StandardPythonParameterType([1.0]))
def run(data, factor=1.0):
    if not isinstance(data, np.ndarray):
        raise TypeError(f"data arrived as {type(data).__name__}, not as a numpy array")
    return {"sums": (data.sum(axis=1) * factor).tolist(), "type": type(data).__name__}
