// /manage/reports: the page's script (to be written).
