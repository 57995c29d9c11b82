"""Datasets: what the user trains on - folders of images/videos with same-stem .txt captions.

Modules, one idea each:
    storage      rows + folders (`dataset_dirs` is the one place that knows paths), counts, cover
    media_types  accepted extensions, safe file names
    naming       free names on clashes (name_1.png...), shared by concurrent imports
    probe        image/video metadata and readability (Pillow, PyAV)
    items        the sqlite item index and the rescan that keeps it in line with the folder
    listing      paging, search, sort, and "which items" targets for batch operations
    captions     reading and atomically writing caption files
    tags         pure caption -> caption tag operations
    history      undo/redo steps (before/after text per item)
    editing      writes captions + index + history + events together; undo/redo
    ops          the caption/tag operations the API exposes
    importer     upload / folder / zip import as a job
    thumbnails   cached thumbnails, generated in a job or on demand
    thumbmaker   making one thumbnail (what a thumbnail pool worker imports: no part of the app)
    trash        deleting datasets and items into a restorable trash
"""
