// /manage: the page's script (to be written).
