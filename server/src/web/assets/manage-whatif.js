// /manage/whatif: the page's script (to be written).
