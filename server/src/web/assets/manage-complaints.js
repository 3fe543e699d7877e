// /manage/complaints: the page's script (to be written).
