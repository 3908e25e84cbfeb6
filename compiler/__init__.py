"""The Synthesizer assembler: ``.sasm`` source -> a ``Program`` for any registered ISA.

``compile_source`` / ``compile_file`` run the passes of ``compiler.pipeline``; errors are
``CompileError`` (a ``SynthError``) whose text is the full diagnostic.
"""

from compiler.diagnostics import CompileError
from compiler.pipeline import compile_file, compile_source

__all__ = ["CompileError", "compile_file", "compile_source"]
