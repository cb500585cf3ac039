"""ImageExplanationDisplay: data kept, drawn onto given Axes, flat maps, the plot wrapper."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402

from skmultimodal import ImageClassifier  # noqa: E402
from skmultimodal.datasets import make_multimodal_classification  # noqa: E402
from skmultimodal.inspection import (  # noqa: E402
    ImageExplanationDisplay,
    grad_cam,
    plot_image_explanations,
)

SIZE = 16
FLAT_NOTE = "flat map: no localisation"


@pytest.fixture(scope="module")
def fitted():
    X, y = make_multimodal_classification(40, image_size=SIZE, image_share=1.0,
                                          random_state=0)
    clf = ImageClassifier(column="image", backbone="simple_cnn", image_size=SIZE,
                          max_epochs=1, random_state=0, device="cpu").fit(X, y)
    return clf, X.iloc[:5]


@pytest.fixture(scope="module")
def cam(fitted):
    clf, rows = fitted
    return grad_cam(clf, rows)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _heat_images(axes):
    """Images drawn on each panel: 2 with a heat map, 1 for the image alone."""
    return [len(ax.get_images()) for ax in axes]


def test_from_estimator_keeps_the_maps(fitted, cam):
    clf, rows = fitted
    display = ImageExplanationDisplay.from_estimator(clf, rows, indices=[0, 2, 4])
    assert len(display.images) == len(display.heatmaps) == 3
    for k, i in enumerate([0, 2, 4]):
        assert np.asarray(display.images[k]).shape == (SIZE, SIZE)
        assert display.heatmaps[k].shape == (SIZE, SIZE)
        np.testing.assert_array_equal(display.images[k], cam.images[i])
        np.testing.assert_allclose(display.heatmaps[k], cam.heatmaps[i], atol=1e-6)
    assert display.titles == [f"row {rows.index[i]}, class {cam.targets[i]}"
                              for i in [0, 2, 4]]
    assert display.flat.tolist() == [bool(cam.flat[i]) for i in [0, 2, 4]]
    assert not hasattr(display, "figure_")  # not drawn yet
    # target= is passed on to grad_cam and shows in the titles
    label = clf.classes_[0]
    display = ImageExplanationDisplay.from_estimator(clf, rows.iloc[:2], target=label)
    assert display.titles == [f"row {r}, class {label}" for r in rows.index[:2]]


def test_from_result_of_grad_cam_and_of_attention_maps(cam):
    display = ImageExplanationDisplay.from_result(cam)
    assert len(display.images) == 5
    assert display.titles[0] == f"row {cam.rows[0]}, class {cam.targets[0]}"
    display = ImageExplanationDisplay.from_result(cam, indices=[-1], titles=["last"])
    np.testing.assert_array_equal(display.heatmaps[0], cam.heatmaps[-1])
    assert display.titles == ["last"]
    # a cross_attention_maps result: ``maps``, no targets
    maps = Bunch(maps=cam.heatmaps[:2], images=cam.images[:2], flat=np.array([0, 1]),
                 rows=["a", "b"])
    display = ImageExplanationDisplay.from_result(maps)
    assert display.titles == ["row a", "row b"]
    assert display.flat.tolist() == [False, True]
    with pytest.raises(ValueError, match="out of range"):
        ImageExplanationDisplay.from_result(cam, indices=[9])
    with pytest.raises(ValueError, match="indices is empty"):
        ImageExplanationDisplay.from_result(cam, indices=[])
    with pytest.raises(ValueError, match="titles has 1 entries for 5 panels"):
        ImageExplanationDisplay.from_result(cam, titles=["a"])
    with pytest.raises(ValueError, match="'heatmaps'"):
        ImageExplanationDisplay.from_result({"images": cam.images})


def test_plot_draws_on_the_given_axes(cam):
    display = ImageExplanationDisplay.from_result(cam, indices=[0, 1, 2])
    fig, axes = plt.subplots(1, 3)
    assert display.plot(ax=axes, alpha=0.5, cmap="viridis") is display
    assert display.figure_ is fig
    assert list(display.axes_) == list(axes) and display.ax_ is axes[0]
    assert len(fig.axes) == 3  # nothing added
    for ax, title, flat in zip(axes, display.titles, display.flat):
        assert ax.get_title() == (f"{title}\n{FLAT_NOTE}" if flat else title)
        if not flat:
            heat = ax.get_images()[1]
            assert heat.get_alpha() == 0.5 and heat.get_cmap().name == "viridis"
    # a list and a 2-D array of Axes work too; one row takes a single Axes
    fig, grid = plt.subplots(3, 1)
    assert display.plot(ax=list(grid)).figure_ is fig
    fig, ax = plt.subplots()
    one = ImageExplanationDisplay.from_result(cam, indices=[0]).plot(ax=ax)
    assert one.ax_ is ax and one.figure_ is fig


@pytest.mark.parametrize("n_axes", [2, 4])
def test_wrong_number_of_axes_raises(cam, n_axes):
    display = ImageExplanationDisplay.from_result(cam, indices=[0, 1, 2])
    _, axes = plt.subplots(1, n_axes)
    with pytest.raises(ValueError, match=rf"one Axes per row \(3\), got {n_axes}"):
        display.plot(ax=axes)
    with pytest.raises(ValueError, match="matplotlib Axes"):
        display.plot(ax=[axes[0], axes[1], "not an axes"])


def test_new_figure_is_a_grid_of_n_cols(cam):
    display = ImageExplanationDisplay.from_result(cam).plot(n_cols=2)
    fig = display.figure_
    assert len(fig.axes) == 6 and len(display.axes_) == 5  # 3 x 2 grid, one left empty
    assert not fig.axes[5].get_images() and not fig.axes[5].axison
    np.testing.assert_allclose(fig.get_size_inches(), [5.2, 7.8])
    with pytest.raises(ValueError, match="n_cols=0"):
        display.plot(n_cols=0)
    with pytest.raises(ValueError, match="alpha=2"):
        display.plot(alpha=2)


def test_flat_maps_are_drawn_as_the_image_alone():
    rng = np.random.RandomState(0)
    images = [rng.uniform(size=(8, 8)) for _ in range(3)]
    heatmaps = [np.eye(8), np.zeros((8, 8)), np.eye(8)]
    display = ImageExplanationDisplay(images, heatmaps, titles=["a", "b", "c"],
                                      flat=[False, True, True]).plot()
    # the flags decide: the third map is not constant but is flagged flat
    assert _heat_images(display.axes_) == [2, 1, 1]
    assert [ax.get_title() for ax in display.axes_] == [
        "a", f"b\n{FLAT_NOTE}", f"c\n{FLAT_NOTE}"]
    np.testing.assert_array_equal(display.axes_[1].get_images()[0].get_array(), images[1])
    # without flags each map decides: the zero map is flat; no titles without titles
    display = ImageExplanationDisplay(images, heatmaps).plot()
    assert _heat_images(display.axes_) == [2, 1, 2]
    assert [ax.get_title() for ax in display.axes_] == ["", FLAT_NOTE, ""]


def test_init_checks_the_lengths():
    images = [np.zeros((4, 4))] * 2
    with pytest.raises(ValueError, match="heatmaps has 1 entries for 2 images"):
        ImageExplanationDisplay(images, [np.zeros((4, 4))])
    with pytest.raises(ValueError, match="titles has 3 entries for 2 panels"):
        ImageExplanationDisplay(images, images, titles=["a", "b", "c"])
    with pytest.raises(ValueError, match="flat has 1 entries for 2 images"):
        ImageExplanationDisplay(images, images, flat=[True])
    with pytest.raises(ValueError, match="No rows to plot"):
        ImageExplanationDisplay([], []).plot()


def test_plot_image_explanations_draws_the_display(cam, tmp_path):
    path = tmp_path / "cams.png"
    fig = plot_image_explanations(cam, indices=[0, 2, 4], n_cols=2, path=path)
    assert isinstance(fig, Figure)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    display = ImageExplanationDisplay.from_result(cam, indices=[0, 2, 4]).plot(n_cols=2)
    mine = display.figure_
    # same grid, same size, same panels: titles, images and heat maps drawn
    assert len(fig.axes) == len(mine.axes) == 4
    np.testing.assert_allclose(fig.get_size_inches(), mine.get_size_inches())
    for ax, ref in zip(fig.axes, mine.axes):
        assert ax.get_title() == ref.get_title()
        assert len(ax.get_images()) == len(ref.get_images())
        for drawn, expected in zip(ax.get_images(), ref.get_images()):
            np.testing.assert_array_equal(drawn.get_array(), expected.get_array())
    assert fig.axes[0].get_title().startswith(f"row {cam.rows[0]}, class {cam.targets[0]}")
    assert not fig.axes[3].get_images()  # the empty fourth cell
    fig = plot_image_explanations(cam, titles=list("abcde"))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(fig.axes) == 8  # 2 x 4 grid
    assert [ax.get_title().split("\n")[0] for ax in panels] == list("abcde")
    with pytest.raises(ValueError, match="n_cols=0"):
        plot_image_explanations(cam, n_cols=0)
