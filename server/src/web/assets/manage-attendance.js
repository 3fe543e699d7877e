// /manage/attendance: the page's script (to be written).
