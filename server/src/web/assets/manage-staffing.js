// /manage/staffing: the page's script (to be written).
