"""Reading the files the command line accepts."""

from __future__ import annotations

import numpy as np
import pytest

from advisor import io
from advisor.errors import InvalidInputError


def test_csv_keeps_strings_and_counts_missing_as_nan(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,label,y,note\n1.5,cat,3,a\n2.5,dog,,NA\n,cat,NA,\n")
    table = io.read_table(path)
    assert list(table["note"]) == ["a", None, None]  # text markers of missing are None
    del table["note"]
    assert list(table) == ["x", "label", "y"]
    assert table["label"].dtype == object and list(table["label"]) == ["cat", "dog", "cat"]
    assert np.isnan(table["x"][2]) and np.isnan(table["y"][1]) and np.isnan(table["y"][2])
    target, features = io.select(table, "label", None)
    assert list(target) == ["cat", "dog", "cat"]
    assert list(features) == ["x", "y"]  # every other column, as a table


def test_semicolon_csv_and_ragged_rows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a;b\n1;2\n3;4\n")
    assert io.read_table(path)["b"].tolist() == [2.0, 4.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(InvalidInputError, match="line 3"):
        io.read_table(bad)


def test_npy_and_npz(tmp_path):
    np.save(tmp_path / "p.npy", np.arange(6.0).reshape(3, 2))
    np.savez(tmp_path / "d.npz", y=np.arange(3), x=np.ones((3, 2)))
    assert io.read_array(tmp_path / "p.npy").shape == (3, 2)
    table = io.read_table(tmp_path / "d.npz")
    assert set(table) == {"x", "y"}


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "d.xlsx").write_text("")
    with pytest.raises(InvalidInputError, match="unsupported"):
        io.read_table(tmp_path / "d.xlsx")
    with pytest.raises(InvalidInputError, match="no such file"):
        io.read_array(tmp_path / "none.npy")


def test_read_array_picks_an_npz_array_or_table_columns(tmp_path):
    np.savez(tmp_path / "d.npz", logits=np.ones((4, 3)), y=np.arange(4))
    (tmp_path / "t.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    path, key = io.split_key(f"{tmp_path / 'd.npz'}:logits")
    assert io.read_array(path, key).shape == (4, 3)
    assert io.read_array(tmp_path / "t.csv", "a,c").tolist() == [[1.0, 3.0], [4.0, 6.0]]
    assert io.read_array(tmp_path / "t.csv", "b").tolist() == [2.0, 5.0]
    assert io.split_key(str(tmp_path / "t.csv")) == (str(tmp_path / "t.csv"), None)
    with pytest.raises(InvalidInputError, match="no 'z'"):
        io.read_array(tmp_path / "t.csv", "z")


def test_unreadable_files_are_typed_errors_naming_the_file(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "latin1.csv").write_bytes(b"a,b\n\xe9,1\n")
    (tmp_path / "folder.csv").mkdir()
    for name, reason in [
        ("junk.npy", "expected a NumPy .npy array"),
        ("junk.npz", "expected a NumPy .npz archive"),
        ("latin1.csv", "not UTF-8 text"),
        ("folder.csv", "cannot read"),
    ]:
        with pytest.raises(InvalidInputError, match=reason) as info:
            io.read_array(tmp_path / name)
        assert name in str(info.value)


def test_object_arrays_are_not_unpickled(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidInputError, match="Python objects are not loaded"):
        io.read_array(tmp_path / "o.npy")


def test_an_npz_with_several_arrays_needs_a_key(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.ones(3), b=np.zeros(3))
    np.savez(tmp_path / "one.npz", only=np.arange(3))
    with pytest.raises(InvalidInputError, match=r"two\.npz:NAME"):
        io.read_array(tmp_path / "two.npz")
    assert io.read_array(tmp_path / "one.npz").tolist() == [0, 1, 2]


def test_a_byte_order_mark_stays_out_of_the_column_names(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffy,x\n1,2\n".encode())
    assert list(io.read_table(tmp_path / "bom.csv")) == ["y", "x"]


def test_text_features_are_kept_and_3d_tables_are_refused(tmp_path):
    table = {"y": np.arange(2.0), "name": np.array(["a", "b"], dtype=object)}
    _, features = io.select(table, "y", ["name"])
    assert list(features["name"]) == ["a", "b"]
    with pytest.raises(InvalidInputError, match="no column 'z'"):
        io.select(table, "y", ["z"])
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError, match="3-d array"):
        io.read_table(tmp_path / "cube.npy")
