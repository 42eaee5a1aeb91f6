"""Object types from extensions (tests/extensions/objects.cc): registered by the loader after its
checks, with a Python class made for them, fields readable by name, printing and structural
equality; reused unchanged by a reload, refused when their layout changed; read by another
extension through generated views; a taken type key is refused before anything registers."""

import pytest
import tvm

import tvm_extend
from conftest import BUILD, ROOT, cmake_build, run_python


@pytest.fixture(scope="module")
def objects(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libobjects.so"))


def test_an_object_type_from_cpp_and_python(objects):
    Tile = objects.types["objects.Tile"]
    assert objects.object_types == ["objects.Tile"]
    made_in_cpp = tvm.get_global_func("objects.make_tile")(7, 32, "row")
    assert isinstance(made_in_cpp, Tile)
    assert (made_in_cpp.rows, made_in_cpp.cols, made_in_cpp.order) == (7, 32, "row")
    assert str(made_in_cpp) == 'objects.Tile(rows=7, cols=32, order="row")'
    made_in_python = Tile(7, 32, "row")  # the constructor takes the fields in order
    tvm.ir.assert_structural_equal(made_in_cpp, made_in_python)
    with pytest.raises(ValueError):
        tvm.ir.assert_structural_equal(made_in_cpp, Tile(6, 16, "row"))
    assert tvm.get_global_func("objects.area")(made_in_python) == 224
    # An IR attribute like any of TVM's nodes.
    mod = tvm.IRModule({}).with_attr("tile", made_in_python)
    assert mod.attrs["tile"].cols == 32


def test_a_reload_reuses_the_type_and_refuses_a_changed_layout(objects, test_extensions):
    Tile = objects.types["objects.Tile"]
    tile = Tile(2, 3, "col")
    tvm_extend.unload_extension("objects")
    again = tvm_extend.load_extension(str(test_extensions / "libobjects.so"))
    assert again.types["objects.Tile"] is Tile  # types (and their classes) outlive unload
    assert tvm.get_global_func("objects.area")(tile) == 6
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        tvm_extend.reload_extension("objects", test_extensions / "libobjects_changed.so")
    message = str(info.value)
    assert "the object type 'objects.Tile'" in message and "changed its layout" in message
    assert "cols: int @32; order: str @40)" in message and "weight: float @56" in message
    assert "restart it to load the new layout" in message
    assert tvm.get_global_func("objects.area")(Tile(4, 5, "row")) == 20  # the old build runs on


def test_another_extension_reads_the_fields_through_generated_views(objects, tmp_path):
    cmake_build(
        ROOT / "tests" / "object_reader",
        BUILD / "object_reader",
        f"-DOBJECTS_LIBRARY={objects.path}",
    )
    reader = tvm_extend.load_extension(str(BUILD / "object_reader" / "libtile_reader.so"))
    Tile = objects.types["objects.Tile"]
    assert reader["perimeter"](Tile(7, 32, "row")) == 78
    with pytest.raises(TypeError, match="tile_reader.perimeter"):
        reader["perimeter"](tvm.tirx.Var("x", "int32"))


def test_a_taken_type_key_is_refused_naming_its_owner(test_extensions):
    """A type registered outside the loader (here by Python) under the extension's key."""
    result = run_python(
        f"""
        import tvm, tvm_ffi, tvm_extend
        from tvm_ffi.dataclasses import py_class

        @py_class("objects.Tile")
        class Tile(tvm_ffi.Object):
            rows: int

        try:
            tvm_extend.load_extension("{test_extensions / "libobjects.so"}")
        except tvm_extend.DuplicateRegistrationError as err:
            print("REFUSED", err)
        print(tvm.get_global_func("objects.area", allow_missing=True))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "REFUSED cannot load extension 'objects'" in result.stdout
    assert "the object type 'objects.Tile' is already registered by TVM or a library" in (
        result.stdout
    )
    assert result.stdout.strip().endswith("None")  # nothing of the extension registered
