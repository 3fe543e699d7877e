// /manage/settings: the page's script (to be written).
